import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { buildApi } from '@rerank-pool/api';
import { loadConfig } from '@rerank-pool/config';
import { deleteKeysWithPrefix } from '@rerank-pool/queue';
import { RerankWorker } from '@rerank-pool/worker';
import { ensureRedis } from './local-redis.js';

export interface BenchServiceOptions {
  /** Redis the service's queues live on; the service takes a key prefix of its own there. */
  redisUrl: string;
  modelDir: string;
  /** Requests the load will keep in flight: the worker holds at least this many jobs. */
  concurrency: number;
  /** ONNX variant to serve (`onnx/model_<variant>.onnx`). Default: the fp32 `model.onnx`. */
  variant?: string;
  /** Redis of the pair-score cache. Default: none, whatever SCORE_CACHE_URL says, so throughput is computed, not recalled. */
  scoreCacheUrl?: string;
}

export interface BenchService {
  baseUrl: string;
  /** The model id requests name. */
  model: string;
  worker: RerankWorker;
  /** Stops the API and worker and deletes the service's keys and batch store. */
  close(): Promise<void>;
}

/**
 * The full service in this process, as `rerank-pool dev` runs it, on a Redis prefix of its own,
 * so services started side by side never take each other's jobs.
 */
export async function startBenchService({ redisUrl, modelDir, concurrency, variant, scoreCacheUrl }: BenchServiceOptions): Promise<BenchService> {
  const prefix = `rerank-pool-bench-${randomBytes(4).toString('hex')}`;
  const batchStore = resolve('.rerank-pool', 'bench', `batch-store-${prefix}`);
  const { SCORE_CACHE_URL: _ignored, ...env } = process.env;
  const config = loadConfig({
    ...env,
    ...(scoreCacheUrl !== undefined && { SCORE_CACHE_URL: scoreCacheUrl }),
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    RERANK_MODELS: modelDir,
    ...(variant !== undefined && { MODEL_VARIANT: variant }),
    WORKER_CONCURRENCY: String(Math.max(concurrency, 8)),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    BATCH_STORE_URL: pathToFileURL(batchStore).href,
  });
  const quiet = { info() {}, warn() {}, error() {} };
  const cleanUp = async () => {
    await deleteKeys(redisUrl, prefix);
    await rm(batchStore, { recursive: true, force: true });
  };
  let worker: RerankWorker | undefined;
  let app: Awaited<ReturnType<typeof buildApi>> | undefined;
  try {
    worker = await RerankWorker.start({ config, logger: quiet });
    app = await buildApi({ config, logger: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (error) {
    await app?.close();
    await worker?.close();
    await cleanUp();
    throw error;
  }
  const started = { app, worker };
  return {
    baseUrl: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`,
    model: worker.modelIds[0]!,
    worker,
    async close() {
      await started.app.close();
      await started.worker.close();
      await cleanUp();
    },
  };
}

/**
 * Runs `use` with the Redis bench services take their prefixes on: REDIS_URL, or a private
 * redis-server started for the run when nothing answers there; that one is stopped after.
 */
export async function withBenchRedis<T>(use: (redisUrl: string) => Promise<T>): Promise<T> {
  const redis = await ensureRedis(loadConfig().redisUrl);
  try {
    return await use(redis.url);
  } finally {
    await redis.stop();
  }
}

/** Runs `use` with one bench service (`startBenchService`) on the bench's Redis, and stops both after. */
export function withBenchService<T>(options: Omit<BenchServiceOptions, 'redisUrl'>, use: (service: BenchService) => Promise<T>): Promise<T> {
  return withBenchRedis(async (redisUrl) => {
    const service = await startBenchService({ ...options, redisUrl });
    try {
      return await use(service);
    } finally {
      await service.close();
    }
  });
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    await deleteKeysWithPrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
