import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { RerankQueue, queueNameForModel } from '../src/index.js';
import { connection, deleteKeys, jobData, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix();
const queue = new RerankQueue('org/tiny', { connection, prefix });
const inspector = new Queue(queueNameForModel('org/tiny'), { connection, prefix });

afterAll(async () => {
  await Promise.all([queue.close(), inspector.close()]);
  await deleteKeys(prefix);
});

describe('when the same idempotency key is used twice', () => {
  it('should return the same job and hold one job in Redis', async () => {
    const first = await queue.enqueue(jobData(), { idempotencyKey: 'order-42' });
    const second = await queue.enqueue(jobData({ query: 'something else' }), { idempotencyKey: 'order-42' });
    const concurrent = await Promise.all([1, 2, 3].map(() => queue.enqueue(jobData(), { idempotencyKey: 'order-43' })));

    expect(first).toEqual({ jobId: first.jobId, created: true });
    expect(second).toEqual({ jobId: first.jobId, created: false });
    expect(new Set(concurrent.map((result) => result.jobId)).size).toBe(1);
    expect(await inspector.getJobCountByTypes('waiting', 'prioritized')).toBe(2);
    expect((await queue.getJob(first.jobId, 'default')).data?.query).toBe('what is a cross-encoder?');
  });
});

describe('when two tenants use the same idempotency key', () => {
  it('should create one job for each', async () => {
    const a = await queue.enqueue(jobData({ tenant: 'acme' }), { idempotencyKey: 'shared' });
    const b = await queue.enqueue(jobData({ tenant: 'globex' }), { idempotencyKey: 'shared' });
    expect(a.jobId).not.toBe(b.jobId);
    expect(b.created).toBe(true);
  });
});
