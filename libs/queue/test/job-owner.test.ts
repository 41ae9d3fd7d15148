import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { RerankQueue, queueNameForModel } from '../src/index.js';
import { connection, deleteKeys, jobData, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix();
const queue = new RerankQueue('org/tiny', { connection, prefix });
const bull = new Queue(queueNameForModel('org/tiny'), { connection, prefix });

afterAll(async () => {
  await Promise.all([queue.close(), bull.close()]);
  await deleteKeys(prefix);
});

describe('when a job is added', () => {
  it('should carry its tenant in its name, where it is read without the payload', async () => {
    const { jobId } = await queue.enqueue(jobData({ tenant: 'acme' }));
    expect((await bull.getJob(jobId))!.name).toBe('rerank:acme');
  });
});

describe('when a job was added before names carried the tenant', () => {
  it('should still belong to the tenant in its payload, and to no other', async () => {
    await bull.add('rerank', jobData({ tenant: 'acme' }), { jobId: 'legacy-1' });
    expect((await queue.getJob('legacy-1', 'acme')).status).toBe('queued');
    await expect(queue.getJob('legacy-1', 'globex')).rejects.toMatchObject({ code: 'job_not_found' });
  });
});

describe('when a job was cancelled', () => {
  it('should belong to the tenant its tombstone names', async () => {
    const { jobId } = await queue.enqueue(jobData({ tenant: 'acme' }));
    await queue.cancel(jobId, 'acme');
    expect((await queue.getJob(jobId, 'acme')).status).toBe('cancelled');
    await expect(queue.getJob(jobId, 'globex')).rejects.toMatchObject({ code: 'job_not_found' });
  });
});
