import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApi } from '@rerank-pool/api';
import { loadConfig } from '@rerank-pool/config';
import { InferencePool } from '@rerank-pool/model-runtime';
import { synthesizeModel } from '@rerank-pool/model-synth';
import { deleteKeysWithPrefix } from '@rerank-pool/queue';
import { RerankWorker } from '@rerank-pool/worker';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface InProcessService {
  app: FastifyInstance;
  worker: RerankWorker;
  /** http://127.0.0.1:port of the listening API. */
  base: string;
  modelDir: string;
  modelId: string;
  /** Scores each request alone, outside the service: what every answer must equal. */
  local: InferencePool;
  root: string;
  close(): Promise<void>;
}

/**
 * The service as `rerank-pool dev` runs it (API + real worker in one process) on a synthetic
 * tiny model and a Redis prefix of its own, deleted on close. `env` may be computed from the
 * service's root directory (for settings naming places under it, e.g. BATCH_URL_PREFIXES).
 */
export async function startInProcessService(
  env: Record<string, string> | ((root: string) => Record<string, string>) = {},
  seed = 5,
): Promise<InProcessService> {
  const root = await mkdtemp(join(tmpdir(), 'rp-service-'));
  const modelDir = join(root, 'synthetic-tiny');
  await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed });
  const prefix = `rp-test-service-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    RERANK_MODELS: modelDir,
    LOG_LEVEL: 'silent',
    BATCH_STORE_URL: pathToFileURL(join(root, 'batch-store')).href,
    ...(typeof env === 'function' ? env(root) : env),
  });
  const worker = await RerankWorker.start({ config, logger: { info() {}, warn() {}, error() {} } });
  const app = await buildApi({ config, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const local = await InferencePool.open({ modelDir, threads: 1 });
  return {
    app,
    worker,
    base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`,
    modelDir,
    modelId: basename(modelDir),
    local,
    root,
    async close() {
      await app.close();
      await worker.close();
      await local.close();
      const redis = new Redis(REDIS_URL);
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
      await rm(root, { recursive: true, force: true });
    },
  };
}
