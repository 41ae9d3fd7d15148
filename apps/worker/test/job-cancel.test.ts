import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@rerank-pool/config';
import type { RerankJobData } from '@rerank-pool/contracts';
import { createRng, synthesizeModel, syntheticText } from '@rerank-pool/model-synth';
import { queueNameForModel, requestCancel, RerankQueue, TenantQueuedJobs } from '@rerank-pool/queue';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { RerankMetrics } from '@rerank-pool/telemetry';
import { RerankWorker } from '@rerank-pool/worker';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';

const quiet = { info() {}, warn() {}, error() {} };
/** Rows of a lone small job wait this long in the batcher for company: the window a cancel lands in. */
const BATCH_WAIT_MS = 1500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('when the client waiting for a job goes away', () => {
  const { prefix, cleanup } = testPrefix('job-cancel');
  const rng = createRng(17);
  let root: string;
  let modelId: string;
  let worker: RerankWorker;
  let queue: RerankQueue;
  let inspector: Queue;
  let redis: Redis;
  let rowsRun = 0;

  const job = (documents: number): RerankJobData => ({
    v: 1,
    model: modelId,
    query: 'which passage',
    documents: Array.from({ length: documents }, () => syntheticText(rng, 20)),
    options: {},
    priority: 'interactive',
    tenant: 'acme',
    createdAt: Date.now(),
  });

  const stateOf = async (jobId: string, wanted: string, timeoutMs = 10_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (let state = ''; state !== wanted; state = await inspector.getJobState(jobId)) {
      if (Date.now() > deadline) throw new Error(`job ${jobId} did not become ${wanted} (last ${state})`);
      await sleep(10);
    }
  };

  const statusOf = async (jobId: string, wanted: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    for (let status = ''; status !== wanted; status = (await queue.getJob(jobId, 'acme')).status) {
      if (Date.now() > deadline) throw new Error(`job ${jobId} did not read ${wanted} (last ${status})`);
      await sleep(10);
    }
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-job-cancel-'));
    const modelDir = join(root, 'synthetic-tiny');
    modelId = basename(modelDir);
    await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 29 });
    const config = loadConfig({ REDIS_URL, QUEUE_PREFIX: prefix, RERANK_MODELS: modelDir, POOL_THREADS: '1', MAX_BATCH_WAIT_MS: String(BATCH_WAIT_MS), HOST: '127.0.0.1' });
    worker = await RerankWorker.start({ config, logger: quiet, metrics: new RerankMetrics({ defaultMetrics: false }) });
    worker.onBatch((_model, stats) => {
      rowsRun += stats.rows;
    });
    const connection = redisOptionsFromUrl(REDIS_URL);
    queue = new RerankQueue(modelId, { connection, prefix, tenantMaxQueuedJobs: 100 });
    inspector = new Queue(queueNameForModel(modelId), { connection, prefix });
    redis = new Redis(connection);
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.close();
    await inspector?.close();
    redis?.disconnect();
    await cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('should stop its running job: cancelled, not retried, none of its waiting rows run', async () => {
    rowsRun = 0;
    const client = new AbortController();
    let jobId = '';
    const waiting = queue.submitAndWait(
      async () => {
        const submitted = await queue.enqueue(job(12));
        jobId = submitted.jobId;
        return submitted;
      },
      12,
      30_000,
      Date.now(),
      client.signal,
    );
    waiting.catch(() => undefined);
    while (jobId === '') await sleep(5);
    await stateOf(jobId, 'active');
    // Picked up: the job no longer counts against its tenant's TENANT_MAX_QUEUED_JOBS.
    const counts = new TenantQueuedJobs(redis, { queueQualifiedName: `${prefix}:${queueNameForModel(modelId)}`, ttlSeconds: 60 });
    for (const deadline = Date.now() + 2000; (await counts.count('acme')) > 0 && Date.now() < deadline; ) await sleep(10);
    expect(await counts.count('acme')).toBe(0);

    client.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'cancelled', jobId });
    await statusOf(jobId, 'cancelled');
    const stored = (await inspector.getJob(jobId))!;
    expect(stored.attemptsMade).toBe(1);
    expect(stored.failedReason).toMatch(/^\[cancelled\] /);
    expect(await inspector.getJobState(jobId)).toBe('failed');
    // Past the batcher's wait: the rows were dropped, not merely not run yet.
    await sleep(BATCH_WAIT_MS + 300);
    expect(rowsRun).toBe(0);

    // The worker is free for the next job.
    const next = await queue.enqueue(job(5));
    await expect(queue.waitForResult(next.jobId, 5, 30_000)).resolves.toMatchObject({ model: modelId });
    expect(rowsRun).toBe(5);
  });

  it('should stop a job at pick-up when its cancellation was asked for before a worker took it', async () => {
    rowsRun = 0;
    const jobId = 'asked-before-pick-up';
    // No worker runs it yet, so only the marker can carry the request.
    await requestCancel(redis, prefix, queueNameForModel(modelId), jobId);
    await inspector.add('rerank', job(8), { jobId });
    await statusOf(jobId, 'cancelled');
    expect((await inspector.getJob(jobId))!.attemptsMade).toBe(1);
    await sleep(BATCH_WAIT_MS + 300);
    expect(rowsRun).toBe(0);
  });

  it('should remove its job while still queued, behind a tombstone', async () => {
    const client = new AbortController();
    let jobId = '';
    // A job no worker can take: its model is not served, so it stays queued.
    const idle = new RerankQueue('test-org/nobody-serves-this', { connection: redisOptionsFromUrl(REDIS_URL), prefix, tenantMaxQueuedJobs: 100 });
    try {
      const waiting = idle.submitAndWait(
        async () => {
          const submitted = await idle.enqueue({ ...job(3), model: 'test-org/nobody-serves-this' });
          jobId = submitted.jobId;
          return submitted;
        },
        3,
        30_000,
        Date.now(),
        client.signal,
      );
      waiting.catch(() => undefined);
      const counts = new TenantQueuedJobs(redis, { queueQualifiedName: `${prefix}:${idle.name}`, ttlSeconds: 60 });
      while (jobId === '') await sleep(5);
      expect(await counts.count('acme')).toBe(1);
      client.abort();
      await expect(waiting).rejects.toMatchObject({ code: 'cancelled', jobId });
      await expect(idle.getJob(jobId, 'acme')).resolves.toMatchObject({ status: 'cancelled' });
      expect(await idle.bullQueue.getJob(jobId)).toBeUndefined();
      expect(await counts.count('acme')).toBe(0);
    } finally {
      await idle.close();
    }
  });
});
