import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@rerank-pool/config';
import type { RerankJobData } from '@rerank-pool/contracts';
import { synthesizeModel } from '@rerank-pool/model-synth';
import { pickUpJob, queueNameForModel, RerankQueue } from '@rerank-pool/queue';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { parseExposition, RerankMetrics, sampleSum } from '@rerank-pool/telemetry';
import { RerankWorker } from '@rerank-pool/worker';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';

const quiet = { info() {}, warn() {}, error() {} };

async function until(predicate: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('when a real worker picks up jobs counted in rerank_queue_pending_pairs', () => {
  const { prefix, cleanup } = testPrefix('pending-pairs');
  const connection = redisOptionsFromUrl(REDIS_URL);
  let root: string;
  let modelDir: string;
  let modelId: string;
  let queue: RerankQueue;
  let redis: Redis;
  let worker: RerankWorker | undefined;
  /** The API side: the gauge as /metrics exposes it, sampled from the queue at each scrape. */
  const apiMetrics = new RerankMetrics();

  const job = (documents: number): RerankJobData => ({
    v: 1,
    model: modelId,
    query: 'a query',
    documents: Array.from({ length: documents }, (_, i) => `document number ${i}`),
    options: {},
    priority: 'interactive',
    tenant: 'default',
    createdAt: Date.now(),
  });

  const gauge = async (): Promise<number | undefined> =>
    sampleSum(parseExposition(await apiMetrics.metrics()), 'rerank_queue_pending_pairs', { model: modelId, priority: 'interactive' });
  /** The stored total itself: the gauge clamps at 0, a double subtraction must show here. */
  const storedTotal = async () => Number((await redis.hget(`${queue.bullQueue.qualifiedName}:pending-pairs-total`, 'interactive')) ?? 0);

  const startWorker = async (env: Record<string, string> = {}) => {
    const config = loadConfig({ REDIS_URL, QUEUE_PREFIX: prefix, RERANK_MODELS: modelDir, POOL_THREADS: '1', HOST: '127.0.0.1', ...env });
    worker = await RerankWorker.start({ config, logger: quiet, metrics: new RerankMetrics() });
    return worker;
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-pending-pairs-'));
    modelDir = join(root, 'synthetic-tiny');
    modelId = basename(modelDir);
    await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 17 });
    queue = new RerankQueue(modelId, { connection, prefix, attempts: 2 });
    redis = new Redis(connection);
    apiMetrics.addQueueDepthSource(async () => [{ model: modelId, ...(await queue.jobCounts()) }]);
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
  });

  afterAll(async () => {
    await queue?.close();
    await redis?.quit();
    await cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('should equal the documents of the jobs not yet started, and drop as the worker picks them up', async () => {
    expect(await gauge()).toBe(0);
    const ids = [];
    for (const documents of [40, 2, 5]) ids.push((await queue.enqueue(job(documents))).jobId);
    expect(await gauge()).toBe(47);

    // One job at a time and a long batch wait: the first job is active alone for a while.
    await startWorker({ WORKER_CONCURRENCY: '1', MAX_BATCH_WAIT_MS: '300' });
    await until(async () => (await gauge()) === 7);
    await Promise.all(ids.map((id, i) => queue.waitForResult(id, [40, 2, 5][i]!, 30_000)));
    await until(async () => (await gauge()) === 0);
    expect(await storedTotal()).toBe(0);
  });

  it('should return to 0 after a cancel', async () => {
    const { jobId } = await queue.enqueue(job(12));
    expect(await gauge()).toBe(12);
    await queue.cancel(jobId, 'default');
    expect(await gauge()).toBe(0);
    expect(await storedTotal()).toBe(0);
  });

  it('should not count a stalled job twice when it is picked up again', async () => {
    // A worker that picks a job up and dies: it takes the job's pairs, then never renews its lock.
    const doomed = new Worker(queueNameForModel(modelId), undefined, { connection, prefix, lockDuration: 1000 });
    const stalled = await queue.enqueue(job(30));
    const taken = await doomed.getNextJob('dead-worker-token');
    expect(taken?.id).toBe(stalled.jobId);
    await pickUpJob(redis, prefix, taken!);
    await doomed.close(true);
    const other = await queue.enqueue(job(3));
    expect(await gauge()).toBe(3);

    // The real worker's stall check puts the job back in the queue; it runs, and picks it up again.
    const metrics = new RerankMetrics();
    const config = loadConfig({ REDIS_URL, QUEUE_PREFIX: prefix, RERANK_MODELS: modelDir, POOL_THREADS: '1', HOST: '127.0.0.1', WORKER_LOCK_MS: '1000' });
    worker = await RerankWorker.start({ config, logger: quiet, metrics });
    const results = await Promise.all([queue.waitForResult(stalled.jobId, 30, 30_000), queue.waitForResult(other.jobId, 3, 30_000)]);
    expect(results.map((result) => result.scores.length)).toEqual([30, 3]);
    expect(sampleSum(parseExposition(await metrics.metrics()), 'rerank_jobs_stalled_total', { model: modelId })).toBe(1);
    await until(async () => (await gauge()) === 0);
    expect(await storedTotal()).toBe(0);
    expect(await redis.hlen(`${queue.bullQueue.qualifiedName}:pending-pairs`)).toBe(0);
  });
});
