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

describe('when a queued job is cancelled', () => {
  it('should remove it and report cancelled, also on a second cancel and for its idempotency key', async () => {
    const { jobId } = await queue.enqueue(jobData(), { idempotencyKey: 'k1' });
    expect((await queue.cancel(jobId, 'default')).status).toBe('cancelled');
    expect(await queue.depth()).toBe(0);
    const status = await queue.getJob(jobId, 'default');
    expect(status).toMatchObject({ id: jobId, status: 'cancelled' });
    expect(status.finishedAt).toBeGreaterThanOrEqual(status.createdAt);
    expect((await queue.cancel(jobId, 'default')).status).toBe('cancelled');
    expect(await queue.enqueue(jobData(), { idempotencyKey: 'k1' })).toEqual({ jobId, created: false });
  });
});

describe('when an active job is cancelled', () => {
  it('should refuse with job_not_cancellable (409) and let it finish', async () => {
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      release = resolve;
    });
    let active = false;
    const worker = new Worker(queueNameForModel('org/tiny'), async (job) => {
      active = true;
      await started;
      return resultFor(job.data);
    }, { connection, prefix });
    const { jobId } = await queue.enqueue(jobData());
    await until(() => active);
    await expect(queue.cancel(jobId, 'default')).rejects.toMatchObject({ code: 'job_not_cancellable', statusCode: 409 });
    release();
    await until(async () => (await queue.getJob(jobId, 'default')).status === 'completed');
    await expect(queue.cancel(jobId, 'default')).rejects.toThrow(`job ${jobId} is completed; only queued jobs can be cancelled`);
    await worker.close();
  });
});
