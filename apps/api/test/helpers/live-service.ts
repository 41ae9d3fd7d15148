import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '@rerank-pool/config';
import type { Config } from '@rerank-pool/config';
import { synthesizeModel } from '@rerank-pool/model-synth';
import { RerankMetrics } from '@rerank-pool/telemetry';
import type { DestinationStream } from '@rerank-pool/telemetry';
import { RerankWorker } from '@rerank-pool/worker';
import type { WorkerLogger } from '@rerank-pool/worker';
import { buildApi } from '../../src/index.js';
import { deleteKeys, listenOnLoopback, temporaryBatchStore } from './harness.js';

export const quietLogger: WorkerLogger = { info() {}, warn() {}, error() {} };

export interface LiveServiceOptions {
  /** Settings over the test defaults (own prefix, tiny model, one thread). */
  env?: Record<string, string>;
  workerLogger?: WorkerLogger;
  workerMetricsPort?: number;
  /** Where the API's pino logger writes; default: API logging off. */
  apiLogDestination?: DestinationStream;
}

export interface LiveService {
  app: FastifyInstance;
  worker: RerankWorker;
  config: Config;
  /** http://127.0.0.1:port of the listening API. */
  base: string;
  modelId: string;
  /** Separate registries, so each side's /metrics shows only its own observations. */
  apiMetrics: RerankMetrics;
  workerMetrics: RerankMetrics;
  close(): Promise<void>;
}

/** The API and a real worker with a synthetic tiny model in this process, on a prefix of their own. */
export async function startLiveService(options: LiveServiceOptions = {}): Promise<LiveService> {
  const root = await mkdtemp(join(tmpdir(), 'rp-live-'));
  const modelDir = join(root, 'synthetic-tiny');
  await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 41 });
  const prefix = `rp-test-live-${randomBytes(4).toString('hex')}`;
  const batchStore = temporaryBatchStore();
  const config = loadConfig({
    BATCH_STORE_URL: batchStore.url,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: prefix,
    RERANK_MODELS: modelDir,
    POOL_THREADS: '1',
    WORKER_CONCURRENCY: '16',
    MAX_BATCH_WAIT_MS: '20',
    HOST: '127.0.0.1',
    ...options.env,
  });
  const apiMetrics = new RerankMetrics({ defaultMetrics: false });
  const workerMetrics = new RerankMetrics({ defaultMetrics: false });
  const worker = await RerankWorker.start({
    config,
    logger: options.workerLogger ?? quietLogger,
    metrics: workerMetrics,
    metricsPort: options.workerMetricsPort,
  });
  const app = await buildApi(
    options.apiLogDestination ? { config, metrics: apiMetrics, logDestination: options.apiLogDestination } : { config, metrics: apiMetrics, logger: false },
  );
  const port = await listenOnLoopback(app);
  return {
    app,
    worker,
    config,
    base: `http://127.0.0.1:${port}`,
    modelId: basename(modelDir),
    apiMetrics,
    workerMetrics,
    async close() {
      await app.close();
      await worker.close();
      await deleteKeys(prefix);
      await rm(root, { recursive: true, force: true });
      batchStore.remove();
    },
  };
}

/** POSTs JSON and returns the status, headers and parsed body. */
export async function postJson(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

/** Resolves once `check` holds (log lines and spans land just after the response). */
export async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
