import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@rerank-pool/config';
import { synthesizeModel } from '@rerank-pool/model-synth';
import { queueNameForModel, RerankQueue } from '@rerank-pool/queue';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { parseExposition, RerankMetrics, sampleSum } from '@rerank-pool/telemetry';
import { RerankWorker } from '@rerank-pool/worker';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';

const quiet = { info() {}, warn() {}, error() {} };

/**
 * A worker that loses a job's lock while scoring it (here: the lock key is deleted, as a Redis
 * outage longer than WORKER_LOCK_MS does) cannot record the result. The job runs again and
 * finishes; the lost result is counted, once.
 */
describe('when a worker loses the lock of a job it is scoring', () => {
  const { prefix, cleanup } = testPrefix('lost-lock');
  let root: string;
  let modelId: string;
  let worker: RerankWorker;
  let queue: RerankQueue;
  const redis = new Redis(REDIS_URL);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-lost-lock-'));
    const modelDir = join(root, 'synthetic-tiny');
    modelId = basename(modelDir);
    await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 5 });
    // A long batch wait keeps the lone job active long enough to take its lock away.
    const config = loadConfig({
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      RERANK_MODELS: modelDir,
      POOL_THREADS: '1',
      MAX_BATCH_WAIT_MS: '1500',
      WORKER_LOCK_MS: '1000',
      HOST: '127.0.0.1',
    });
    worker = await RerankWorker.start({ config, logger: quiet, metrics: new RerankMetrics(), metricsPort: 0 });
    queue = new RerankQueue(modelId, { connection: redisOptionsFromUrl(REDIS_URL), prefix, attempts: 1 });
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.close();
    redis.disconnect();
    await cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('should run the job again and count the discarded result once', async () => {
    const { jobId } = await queue.enqueue({
      v: 1,
      model: modelId,
      query: 'a query',
      documents: ['first document', 'second document'],
      options: {},
      priority: 'interactive',
      tenant: 'default',
      createdAt: Date.now(),
    });
    const result = queue.waitForResult(jobId, 2, 30_000);
    while ((await queue.getJob(jobId, 'default')).status !== 'active') await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await redis.del(`${prefix}:${queueNameForModel(modelId)}:${jobId}:lock`)).toBe(1);

    await expect(result).resolves.toMatchObject({ model: modelId, scores: [expect.any(Number), expect.any(Number)] });
    // Both runs can finish in the same batch: when the rerun's result is recorded first, the
    // caller has it before the first run's refused completion comes back to the worker.
    const scrape = async () => parseExposition(await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text());
    let samples = await scrape();
    for (const deadline = Date.now() + 5000; sampleSum(samples, 'rerank_results_discarded_total', { model: modelId }) === undefined && Date.now() < deadline; samples = await scrape()) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(sampleSum(samples, 'rerank_results_discarded_total', { model: modelId })).toBe(1);
    expect(sampleSum(samples, 'rerank_jobs_stalled_total', { model: modelId })).toBe(1);
  });
});
