import { afterAll, describe, expect, it } from 'vitest';
import { RerankQueue } from '../src/index.js';
import { connection, deleteKeys, jobData, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix();
const queue = new RerankQueue('org/tiny', { connection, prefix });

afterAll(async () => {
  await queue.close();
  await deleteKeys(prefix);
});

describe("when a tenant asks for another tenant's job", () => {
  it('should answer job_not_found for reading and cancelling, and leave the job alone', async () => {
    const { jobId } = await queue.enqueue(jobData({ tenant: 'acme' }));
    await expect(queue.getJob(jobId, 'globex')).rejects.toMatchObject({ code: 'job_not_found', statusCode: 404 });
    await expect(queue.cancel(jobId, 'globex')).rejects.toMatchObject({ code: 'job_not_found' });
    expect((await queue.getJob(jobId, 'acme')).status).toBe('queued');
  });
});
