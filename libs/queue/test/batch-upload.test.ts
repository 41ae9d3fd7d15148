import { Queue } from 'bullmq';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Errors } from '@rerank-pool/contracts';
import { BATCH_LINE_PRIORITY, BatchQueue, RerankQueue, queueNameForModel } from '../src/index.js';
import { connection, deleteKeys, jobData, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix();
const models = ['org/tiny'];
const inspector = new Queue(queueNameForModel('org/tiny'), { connection, prefix });
const opened: BatchQueue[] = [];

function batchQueue(options: { chunkSize?: number; maxLines?: number } = {}): BatchQueue {
  const queue = new BatchQueue({ connection, prefix, models, ...options });
  opened.push(queue);
  return queue;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((queue) => queue.close()));
});

afterAll(async () => {
  await inspector.close();
  await deleteKeys(prefix);
});

describe('when an upload is appended and sealed', () => {
  it('should enqueue one job per valid line under derived ids at batch-line priority, and count rejected lines as failed', async () => {
    const batches = batchQueue({ chunkSize: 2 });
    const { batchId, upload } = await batches.open('default');
    await upload!.append({ id: 'a', job: jobData({ priority: 'batch' }) });
    await upload!.append({ id: 'b', error: Errors.invalidRequest('query is required', 'query') });
    await upload!.append({ id: 3, job: jobData({ priority: 'batch', documents: ['x', 'y', 'z'] }) });
    await upload!.seal();

    const jobs = await Promise.all([0, 1, 2].map((index) => inspector.getJob(`${batchId}-${index}`)));
    expect(jobs.map((job) => job?.opts.priority)).toEqual([BATCH_LINE_PRIORITY, undefined, BATCH_LINE_PRIORITY]);
    expect(jobs[2]?.data.documents).toEqual(['x', 'y', 'z']);
    expect(await batches.status(batchId, 'default')).toMatchObject({
      status: 'running',
      total: 3,
      completed: 0,
      failed: 1,
      pairsTotal: 5,
      models,
      uploaded: true,
    });
  });

  it('should leave waiting batch lines out of the admission depth', async () => {
    const rerank = new RerankQueue('org/tiny', { connection, prefix });
    const before = await rerank.depth();
    const { upload } = await batchQueue().open('default');
    for (let i = 0; i < 5; i++) await upload!.append({ id: i, job: jobData({ priority: 'batch' }) });
    await upload!.seal();
    await rerank.enqueue(jobData());
    expect(await rerank.depth()).toBe(before + 1);
    await rerank.close();
  });

  it('should write a chunk early once its lines hold chunkChars characters', async () => {
    const { batchId, upload } = await batchQueue({ chunkSize: 500, chunkChars: 100 }).open('default');
    const long = jobData({ priority: 'batch', documents: ['x'.repeat(60)] });
    for (let i = 0; i < 4; i++) await upload!.append({ id: i, job: long });
    // The fourth line started the second chunk's write only after the first chunk was written.
    expect(await inspector.getJob(`${batchId}-1`)).toBeDefined();
    await upload!.seal();
  });

  it('should refuse lines past maxLines with payload_too_large', async () => {
    const { upload } = await batchQueue({ maxLines: 2 }).open('default');
    await upload!.append({ id: 1, job: jobData() });
    await upload!.append({ id: 2, job: jobData() });
    await expect(upload!.append({ id: 3, job: jobData() })).rejects.toMatchObject({ code: 'payload_too_large', statusCode: 413 });
  });
});

describe('when an upload with an idempotency key is interrupted and opened again', () => {
  it('should resume after the last recorded chunk, under the same batch id, without duplicate jobs', async () => {
    const batches = batchQueue({ chunkSize: 2 });
    const first = await batches.open('default', 'nightly-run');
    for (let i = 0; i < 5; i++) await first.upload!.append({ id: i, job: jobData({ query: `q${i}` }) });
    await first.upload!.abort();

    const second = await batches.open('default', 'nightly-run');
    expect(second.batchId).toBe(first.batchId);
    // The fifth line was still buffered: only recorded chunks count.
    expect(second.upload!.resumeFrom).toBe(4);
    for (let i = 4; i < 6; i++) await second.upload!.append({ id: i, job: jobData({ query: `q${i}` }) });
    await second.upload!.seal();

    expect(await batches.status(first.batchId, 'default')).toMatchObject({ total: 6, uploaded: true });
    const jobs = await Promise.all([0, 1, 2, 3, 4, 5].map((index) => inspector.getJob(`${first.batchId}-${index}`)));
    expect(jobs.map((job) => job?.data.query)).toEqual(['q0', 'q1', 'q2', 'q3', 'q4', 'q5']);

    const third = await batches.open('default', 'nightly-run');
    expect(third).toEqual({ batchId: first.batchId });
  });

  it('should refuse a second concurrent upload with batch_busy and keep tenants apart', async () => {
    const batches = batchQueue();
    const first = await batches.open('acme', 'shared-key');
    const busy = await batches.open('acme', 'shared-key').catch((error: unknown) => error);
    expect(busy).toMatchObject({ code: 'batch_busy', statusCode: 409, retryAfterSeconds: 30 });
    const other = await batches.open('globex', 'shared-key');
    expect(other.batchId).not.toBe(first.batchId);
    await expect(batches.status(first.batchId, 'globex')).rejects.toMatchObject({ code: 'batch_not_found' });
    await first.upload!.seal();
    await other.upload!.seal();
  });
});
