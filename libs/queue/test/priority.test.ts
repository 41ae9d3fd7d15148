import { Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { RerankQueue, queueNameForModel } from '../src/index.js';
import { connection, deleteKeys, jobData, resultFor, uniquePrefix, until } from './helpers/redis.js';

const prefix = uniquePrefix();
const queue = new RerankQueue('org/tiny', { connection, prefix });

afterAll(async () => {
  await queue.close();
  await deleteKeys(prefix);
});

describe('when batch jobs wait and an interactive job arrives', () => {
  it('should serve the interactive job first', async () => {
    const batch = [];
    for (let i = 0; i < 3; i += 1) batch.push((await queue.enqueue(jobData({ priority: 'batch' }))).jobId);
    const { jobId: interactive } = await queue.enqueue(jobData({ priority: 'interactive' }));
    expect(await queue.depth()).toBe(4);

    const order: string[] = [];
    // A real consumer of the real queue, started after all four jobs wait.
    const worker = new Worker(queueNameForModel('org/tiny'), async (job) => {
      order.push(job.id as string);
      return resultFor(job.data);
    }, { connection, prefix, concurrency: 1 });
    await until(() => order.length === 4);
    await worker.close();

    expect(order[0]).toBe(interactive);
    expect(order.slice(1)).toEqual(batch);
    expect(await queue.depth()).toBe(0);
  });
});
