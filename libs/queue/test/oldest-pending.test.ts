import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BATCH_LINE_PRIORITY, PRIORITY, queueNameForModel, readOldestPending, RerankQueue } from '../src/index.js';
import { connection, deleteKeys, jobData, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix();
const model = 'org/oldest';
const queue = new RerankQueue(model, { connection, prefix });
const redis = new Redis(connection);
const qualifiedName = `${prefix}:${queueNameForModel(model)}`;
const classes = { ...PRIORITY, batch_line: BATCH_LINE_PRIORITY };

const enqueuedAt = async (jobId: string) => (await queue.bullQueue.getJob(jobId))!.timestamp;

afterEach(async () => {
  await queue.bullQueue.obliterate({ force: true });
});

afterAll(async () => {
  await queue.close();
  await redis.quit();
  await deleteKeys(prefix);
});

describe('when reading the oldest waiting job of each priority class', () => {
  it('should give the enqueue time of the next job of each class, and leave out classes with none', async () => {
    expect(await readOldestPending(redis, qualifiedName, classes)).toEqual({});
    const first = await queue.enqueue(jobData({ model }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await queue.enqueue(jobData({ model }));
    const batch = await queue.enqueue(jobData({ model, priority: 'batch' }));
    expect(await readOldestPending(redis, qualifiedName, classes)).toEqual({ interactive: await enqueuedAt(first.jobId), batch: await enqueuedAt(batch.jobId) });
  });

  it('should move to the next job once the head leaves the queue', async () => {
    const first = await queue.enqueue(jobData({ model }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await queue.enqueue(jobData({ model }));
    await queue.cancel(first.jobId, 'default');
    expect(await readOldestPending(redis, qualifiedName, classes)).toEqual({ interactive: await enqueuedAt(second.jobId) });
  });

  it('should report it as an age in the queue counts the gauges read', async () => {
    const job = await queue.enqueue(jobData({ model, priority: 'batch' }));
    const before = Date.now();
    const ages = (await queue.jobCounts()).oldestPendingAgeSecondsByPriority;
    expect(Object.keys(ages)).toEqual(['batch']);
    expect(ages.batch).toBeGreaterThanOrEqual(0);
    expect(ages.batch).toBeGreaterThanOrEqual((before - (await enqueuedAt(job.jobId))) / 1000);
  });
});
