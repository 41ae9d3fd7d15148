import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { queueNameForModel, RerankQueue } from '../src/index.js';
import { connection, deleteKeys, jobData, uniquePrefix } from './helpers/redis.js';

const CAP = 2;
const prefix = uniquePrefix();
const model = 'org/admission';
const queue = new RerankQueue(model, { connection, prefix, tenantMaxQueuedJobs: CAP });
const redis = new Redis(connection);
const qualifiedName = `${prefix}:${queueNameForModel(model)}`;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every key named after a random job id under the queue: the jobs' hashes, and anything held for one. */
async function jobKeys(): Promise<string[]> {
  const found = await redis.keys(`${qualifiedName}:*`);
  return found.filter((key) => UUID.test(key)).sort();
}

const pendingPairs = async () => (await queue.jobCounts()).pendingPairsByPriority.interactive;
const places = (tenant: string) => redis.zcard(`${qualifiedName}:tenants:${tenant}:queued`);
const enqueue = (tenant: string, documents = 3, idempotencyKey?: string) =>
  queue.enqueue(jobData({ model, tenant, documents: Array.from({ length: documents }, (_, i) => `document ${i}`) }), { idempotencyKey });

afterEach(async () => {
  await queue.bullQueue.obliterate({ force: true });
  await deleteKeys(prefix);
});

afterAll(async () => {
  await queue.close();
  await redis.quit();
  await deleteKeys(prefix);
});

describe('when a tenant at its cap enqueues a job (admission and add in one round trip)', () => {
  it('should add nothing: no job, no pending pairs, no place, and no key left under the refused id', async () => {
    const admitted = [await enqueue('acme', 3), await enqueue('acme', 4)];
    await expect(enqueue('acme', 5)).rejects.toMatchObject({
      code: 'overloaded',
      statusCode: 429,
      message: `tenant acme has ${CAP} jobs not yet started (TENANT_MAX_QUEUED_JOBS ${CAP}); retry later`,
    });
    expect(await jobKeys()).toEqual(admitted.map(({ jobId }) => `${qualifiedName}:${jobId}`).sort());
    expect(await queue.bullQueue.getJobCountByTypes('prioritized', 'waiting')).toBe(CAP);
    expect(await pendingPairs()).toBe(7);
    expect(await places('acme')).toBe(CAP);
    // Another tenant still has its places.
    await enqueue('globex', 1);
    expect(await pendingPairs()).toBe(8);
  });

  it('should admit exactly the cap of many concurrent requests, each admitted one added and counted once', async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => enqueue('initech', 2)));
    const added = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(added).toHaveLength(CAP);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'overloaded' });
    expect(await jobKeys()).toHaveLength(CAP);
    expect(await pendingPairs()).toBe(2 * CAP);
    expect(await places('initech')).toBe(CAP);
  });
});

describe('when a job with an idempotency key is refused at the cap', () => {
  it('should hold nothing under its id: the same key is admitted once a place is free', async () => {
    const first = await enqueue('umbrella');
    await enqueue('umbrella');
    await expect(enqueue('umbrella', 3, 'report-7')).rejects.toMatchObject({ code: 'overloaded' });
    await queue.cancel(first.jobId, 'umbrella');
    const retried = await enqueue('umbrella', 3, 'report-7');
    expect(retried.created).toBe(true);
    expect((await queue.getJob(retried.jobId, 'umbrella')).status).toBe('queued');
    expect(await places('umbrella')).toBe(CAP);
  });
});
