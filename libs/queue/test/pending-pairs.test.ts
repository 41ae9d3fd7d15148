import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { addPendingPairs, pickUpJob, queueNameForModel, reconcilePendingPairs, RerankQueue, takePendingPairs } from '../src/index.js';
import { connection, deleteKeys, jobData, resultFor, uniquePrefix, until } from './helpers/redis.js';

const prefix = uniquePrefix();
const model = 'org/pairs';
const queue = new RerankQueue(model, { connection, prefix });
const redis = new Redis(connection);
const qualifiedName = `${prefix}:${queueNameForModel(model)}`;
const docs = (n: number) => Array.from({ length: n }, (_, i) => `document ${i}`);

const pendingPairs = async () => (await queue.jobCounts()).pendingPairsByPriority;
const total = async () => Object.values(await pendingPairs()).reduce((sum, pairs) => sum + pairs, 0);

afterEach(async () => {
  await queue.bullQueue.obliterate({ force: true });
  await redis.del(`${qualifiedName}:pending-pairs`, `${qualifiedName}:pending-pairs-total`, `${qualifiedName}:pending-pairs-reconciled`);
});

afterAll(async () => {
  await queue.close();
  await redis.quit();
  await deleteKeys(prefix);
});

describe('when jobs of different sizes are enqueued', () => {
  it('should count the sum of their documents per priority class, and every class at 0 when none wait', async () => {
    expect(await pendingPairs()).toEqual({ interactive: 0, batch: 0, batch_line: 0 });
    await queue.enqueue(jobData({ model, documents: docs(1000) }));
    await queue.enqueue(jobData({ model, documents: docs(2) }));
    await queue.enqueue(jobData({ model, documents: docs(7), priority: 'batch' }));
    expect(await pendingPairs()).toEqual({ interactive: 1002, batch: 7, batch_line: 0 });
  });

  it('should count a job enqueued twice under one idempotency key once', async () => {
    await queue.enqueue(jobData({ model, documents: docs(5) }), { idempotencyKey: 'same' });
    await queue.enqueue(jobData({ model, documents: docs(5) }), { idempotencyKey: 'same' });
    expect(await total()).toBe(5);
  });
});

describe('when queued jobs are cancelled or abandoned', () => {
  it('should return to 0', async () => {
    const a = await queue.enqueue(jobData({ model, documents: docs(30) }));
    const b = await queue.enqueue(jobData({ model, documents: docs(4), priority: 'batch' }));
    expect(await total()).toBe(34);
    await queue.cancel(a.jobId, 'default');
    expect(await total()).toBe(4);
    await queue.abandon(b.jobId);
    expect(await pendingPairs()).toEqual({ interactive: 0, batch: 0, batch_line: 0 });
    // A second cancel of the same job takes nothing more.
    await queue.cancel(a.jobId, 'default');
    expect(await total()).toBe(0);
  });
});

describe('when a worker picks jobs up', () => {
  it('should drop each job once, however many times it is picked up (stalled and run again)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const picked: string[] = [];
    const worker = new Worker(
      queueNameForModel(model),
      async (job) => {
        await pickUpJob(redis, prefix, job);
        picked.push(job.id!);
        await held;
        return resultFor(job.data);
      },
      { connection, prefix, concurrency: 1 },
    );
    try {
      const big = await queue.enqueue(jobData({ model, documents: docs(100) }));
      await until(() => picked.length === 1);
      await queue.enqueue(jobData({ model, documents: docs(3) }));
      expect(await total()).toBe(3);
      // What a second worker does with a stalled job it runs again: the pick-up finds no entry.
      await pickUpJob(redis, prefix, { id: big.jobId, queueName: queueNameForModel(model), queueQualifiedName: qualifiedName, data: jobData({ model }) });
      expect(await total()).toBe(3);
      release();
      await until(async () => (await total()) === 0);
      await until(() => picked.length === 2);
      expect(await pendingPairs()).toEqual({ interactive: 0, batch: 0, batch_line: 0 });
    } finally {
      release();
      await worker.close();
    }
  });
});

describe('when an entry is left behind by a crash', () => {
  it('should be dropped by the reconcile once its job has started or is gone past the grace', async () => {
    // A worker killed between its pick-up and the take: the job has started, its entry stays.
    const started = await queue.enqueue(jobData({ model, documents: docs(9) }));
    await redis.hset(queue.bullQueue.toKey(started.jobId), 'processedOn', Date.now());
    // An API killed between the entry and the add: no job at all.
    await addPendingPairs(redis, qualifiedName, [{ jobId: 'never-added', pairs: 50, priorityClass: 'batch' }]);
    const waiting = await queue.enqueue(jobData({ model, documents: docs(2) }));
    expect(await reconcilePendingPairs(redis, qualifiedName, { graceMs: 60_000, intervalMs: 1 })).toBe(1);
    // Within its grace the missing job's add may still be under way: it stays counted until then.
    expect(await pendingPairs()).toEqual({ interactive: 2, batch: 50, batch_line: 0 });
    // The scrape above ran a step of its own; the guard it left is not what this test is about.
    await redis.del(`${qualifiedName}:pending-pairs-reconciled`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await reconcilePendingPairs(redis, qualifiedName, { graceMs: 0, intervalMs: 1 })).toBe(1);
    expect(await pendingPairs()).toEqual({ interactive: 2, batch: 0, batch_line: 0 });
    expect(await takePendingPairs(redis, qualifiedName, [waiting.jobId, waiting.jobId])).toBe(2);
    expect(await total()).toBe(0);
  });

  it('should run one reconcile step per interval however many callers ask', async () => {
    expect(await reconcilePendingPairs(redis, qualifiedName, { intervalMs: 60_000 })).toBe(0);
    expect(await reconcilePendingPairs(redis, qualifiedName, { intervalMs: 60_000 })).toBe(-1);
  });
});
