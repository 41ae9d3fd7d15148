import { Worker } from 'bullmq';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { Errors } from '@rerank-pool/contracts';
import type { RerankJobData } from '@rerank-pool/contracts';
import { RerankQueue, queueNameForModel, toJobFailure } from '../src/index.js';
import { connection, deleteKeys, jobData, resultFor, uniquePrefix, until } from './helpers/redis.js';

const prefix = uniquePrefix();
const queue = new RerankQueue('org/tiny', { connection, prefix });

afterAll(async () => {
  await queue.close();
  await deleteKeys(prefix);
});

describe('when nobody consumes the queue', () => {
  it('should reject with a timeout error naming the job', async () => {
    const { jobId } = await queue.enqueue(jobData());
    const error = await queue.waitForResult(jobId, 2, 200).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'timeout', statusCode: 504, jobId });
    expect((error as Error).message).toContain(`GET /v1/jobs/${jobId}`);
  });
});

describe('when many jobs complete or fail', () => {
  it('should give every waiter its own result or its typed failure', async () => {
    const worker = new Worker<RerankJobData>(queueNameForModel('org/tiny'), async (job) => {
      if (job.data.query === 'too long') throw toJobFailure(Errors.inputTooLong('documents[1] has 600 tokens; the model takes 512', 'documents[1]'));
      return resultFor(job.data, job.data.documents.map(() => (Number(job.data.query) + 1) / 100));
    }, { connection, prefix, concurrency: 4 });
    onTestFinished(() => worker.close());
    const queries = Array.from({ length: 20 }, (_, index) => String(index));
    const results = await Promise.all(
      queries.map(async (query) => {
        const { jobId } = await queue.enqueue(jobData({ query }));
        return queue.waitForResult(jobId, 2, 10_000);
      }),
    );
    results.forEach((result, index) => expect(result.scores).toEqual([(index + 1) / 100, (index + 1) / 100]));

    const { jobId } = await queue.enqueue(jobData({ query: 'too long' }));
    await expect(queue.waitForResult(jobId, 2, 10_000)).rejects.toMatchObject({
      code: 'input_too_long',
      statusCode: 413,
      field: 'documents[1]',
      message: 'documents[1] has 600 tokens; the model takes 512',
    });
  });
});

describe('when the job finished before anyone waited', () => {
  it('should answer from Redis at once', async () => {
    const worker = new Worker<RerankJobData>(queueNameForModel('org/tiny'), async (job) => resultFor(job.data), { connection, prefix });
    const { jobId } = await queue.enqueue(jobData());
    await queue.waitForResult(jobId, 2, 5000);
    await worker.close();
    await expect(queue.waitForResult(jobId, 2, 100)).resolves.toMatchObject({ inputTokens: 14 });
  });
});

describe('when a request enqueues its own job and waits for it (submitAndWait)', () => {
  it('should answer from the event alone for new jobs, many at once, and read an existing job back', async () => {
    const fresh = new RerankQueue('org/tiny', { connection, prefix });
    onTestFinished(() => fresh.close());
    const worker = new Worker<RerankJobData>(
      queueNameForModel('org/tiny'),
      async (job) => resultFor(job.data, job.data.documents.map(() => (Number(job.data.query) + 1) / 100)),
      { connection, prefix, concurrency: 8 },
    );
    onTestFinished(() => worker.close());
    // The first calls race the listener's start: none of their jobs may finish unseen.
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, index) => fresh.submitAndWait(() => fresh.enqueue(jobData({ query: String(index) })), 2, 10_000)),
    );
    outcomes.forEach((outcome, index) => {
      expect(outcome.created).toBe(true);
      expect(outcome.result.scores).toEqual([(index + 1) / 100, (index + 1) / 100]);
    });

    const keyed = () => fresh.enqueue(jobData({ query: '41' }), { idempotencyKey: 'sync-41' });
    const first = await fresh.submitAndWait(keyed, 2, 10_000);
    // The same key names the finished job: its completion event is long gone, so it is read back.
    const again = await fresh.submitAndWait(keyed, 2, 1000);
    expect(again).toMatchObject({ jobId: first.jobId, created: false });
    expect(again.result.scores).toEqual([0.42, 0.42]);
  });
});

describe('when admission reads the queue depth', () => {
  it("should reuse one reading, count its own new jobs at once, and see other replicas' at the next reading", async () => {
    const own = uniquePrefix();
    const api = new RerankQueue('org/tiny', { connection, prefix: own, admissionReadTtlMs: 60_000 });
    const replica = new RerankQueue('org/tiny', { connection, prefix: own, admissionReadTtlMs: 0 });
    onTestFinished(async () => {
      await Promise.all([api.close(), replica.close()]);
      await deleteKeys(own);
    });
    expect(await api.admissionDepth()).toBe(0);
    await api.enqueue(jobData());
    await replica.enqueue(jobData());
    expect(await api.admissionDepth()).toBe(1);
    expect(await replica.admissionDepth()).toBe(2);
    await replica.enqueue(jobData());
    expect(await replica.admissionDepth()).toBe(3);
  });

  it('should answer from a reading past its time, but not twice as old, while the next one is read', async () => {
    const own = uniquePrefix();
    const ttlMs = 2000;
    const api = new RerankQueue('org/tiny', { connection, prefix: own, admissionReadTtlMs: ttlMs });
    const replica = new RerankQueue('org/tiny', { connection, prefix: own });
    onTestFinished(async () => {
      await Promise.all([api.close(), replica.close()]);
      await deleteKeys(own);
    });
    expect(await api.admissionDepth()).toBe(0);
    await replica.enqueue(jobData());
    // Just past its time, and far from twice it: the window is the test's margin on a busy machine.
    await new Promise((resolve) => setTimeout(resolve, ttlMs + 100));
    // Past its time: this request is checked against the old reading, and starts the next one.
    expect(await api.admissionDepth()).toBe(0);
    await until(async () => (await api.admissionDepth()) === 1);
  });
});
