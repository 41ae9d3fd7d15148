import { Worker } from 'bullmq';
import type { RerankJobData } from '@rerank-pool/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchQueue, RerankQueue, queueNameForModel } from '../src/index.js';
import { connection, deleteKeys, jobData, resultFor, uniquePrefix, until } from './helpers/redis.js';

const prefix = uniquePrefix();
const batches = new BatchQueue({ connection, prefix, models: ['org/tiny'] });
const rerank = new RerankQueue('org/tiny', { connection, prefix });

afterAll(async () => {
  await Promise.all([batches.close(), rerank.close()]);
  await deleteKeys(prefix);
});

describe('when interactive and async jobs arrive behind waiting batch lines', () => {
  it('should run the interactive job first, then the async job, then the lines in input order', async () => {
    const { upload } = await batches.open('default');
    for (let i = 0; i < 5; i++) await upload!.append({ id: i, job: jobData({ priority: 'batch', query: `line ${i}` }) });
    await upload!.seal();
    await rerank.enqueue(jobData({ priority: 'batch', query: 'async job' }));
    await rerank.enqueue(jobData({ priority: 'interactive', query: 'interactive job' }));

    const order: string[] = [];
    const worker = new Worker<RerankJobData>(queueNameForModel('org/tiny'), async (job) => {
      order.push(job.data.query);
      return resultFor(job.data);
    }, { connection, prefix, concurrency: 1 });
    await until(() => order.length === 7);
    await worker.close();
    expect(order).toEqual(['interactive job', 'async job', 'line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
  });
});
