import { Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import type { RerankJobData } from '@rerank-pool/contracts';
import { RerankQueue, checkDeadline, queueNameForModel, toJobFailure } from '../src/index.js';
import { connection, deleteKeys, jobData, resultFor, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix();
const queue = new RerankQueue('org/tiny', { connection, prefix, attempts: 3, backoffMs: 10 });

afterAll(async () => {
  await queue.close();
  await deleteKeys(prefix);
});

describe('when a job is picked up after its deadline', () => {
  it('should fail it with deadline_exceeded without computing or retrying it', async () => {
    const computed: string[] = [];
    const expired = await queue.enqueue(jobData({ deadline: Date.now() + 50 }));
    const fresh = await queue.enqueue(jobData({ deadline: Date.now() + 60_000 }));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const worker = new Worker<RerankJobData>(queueNameForModel('org/tiny'), async (job) => {
      try {
        checkDeadline(job.data, job.id);
      } catch (error) {
        throw toJobFailure(error);
      }
      computed.push(job.id as string);
      return resultFor(job.data);
    }, { connection, prefix });

    await expect(queue.waitForResult(expired.jobId, 2, 5000)).rejects.toMatchObject({ code: 'deadline_exceeded', statusCode: 504 });
    await expect(queue.waitForResult(fresh.jobId, 2, 5000)).resolves.toMatchObject({ v: 1 });
    const status = await queue.getJob(expired.jobId, 'default');
    expect(status.status).toBe('failed');
    expect(status.error?.code).toBe('deadline_exceeded');
    expect(status.error?.message).toContain('was still waiting at its deadline');
    expect(computed).toEqual([fresh.jobId]);
    await worker.close();
  });
});
