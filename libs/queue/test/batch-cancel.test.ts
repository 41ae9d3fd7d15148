import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { RerankJobData } from '@rerank-pool/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchQueue, queueNameForModel } from '../src/index.js';
import { BatchStore } from '../src/batch-store.js';
import { connection, deleteKeys, jobData, resultFor, uniquePrefix, until } from './helpers/redis.js';

const prefix = uniquePrefix();
const batches = new BatchQueue({ connection, prefix, models: ['org/tiny'], trackerBlockMs: 100 });
batches.startTracking();

afterAll(async () => {
  await batches.close();
  await deleteKeys(prefix);
});

async function collect(source: AsyncIterable<string>): Promise<any[]> {
  const parsed: any[] = [];
  for await (const line of source) parsed.push(JSON.parse(line));
  return parsed;
}

describe('when a batch is cancelled while one line runs', () => {
  it('should remove the waiting lines, let the running one finish, then finish the batch', async () => {
    const { batchId, upload } = await batches.open('default');
    for (let i = 0; i < 6; i++) await upload!.append({ id: `l${i}`, job: jobData({ priority: 'batch', query: `q${i}` }) });
    await upload!.seal();

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const worker = new Worker<RerankJobData>(queueNameForModel('org/tiny'), async (job) => {
      started += 1;
      await gate;
      return resultFor(job.data);
    }, { connection, prefix, concurrency: 1 });
    await until(() => started === 1);

    const cancelled = await batches.cancel(batchId, 'default');
    expect(cancelled).toMatchObject({ status: 'cancelled', total: 6, cancelled: 5, completed: 0 });
    expect(cancelled.finishedAt).toBeUndefined();
    await expect(batches.results(batchId, 'default')).rejects.toMatchObject({ code: 'batch_not_finished' });

    release();
    await until(async () => (await batches.status(batchId, 'default')).finishedAt !== undefined);
    await worker.close();
    expect(started).toBe(1);
    expect(await batches.status(batchId, 'default')).toMatchObject({ status: 'cancelled', completed: 1, cancelled: 5 });
    const results = await collect(await batches.results(batchId, 'default'));
    expect(results.map((line) => [line.id, line.error?.code ?? 'completed'])).toEqual([
      ['l0', 'completed'],
      ...[1, 2, 3, 4, 5].map((i) => [`l${i}`, 'cancelled']),
    ]);
    expect(results[1].error.message).toBe(`batch ${batchId} was cancelled before this line ran`);
    expect((await batches.cancel(batchId, 'default')).cancelled).toBe(5);
  });
});

describe('when a batch is cancelled during its upload', () => {
  it('should refuse with batch_busy, and cancel once the upload gave up', async () => {
    const { batchId, upload } = await batches.open('default', 'big-upload');
    await upload!.append({ id: 1, job: jobData({ priority: 'batch' }) });
    await expect(batches.cancel(batchId, 'default')).rejects.toMatchObject({ code: 'batch_busy', statusCode: 409 });
    await upload!.abort();
    const cancelled = await batches.cancel(batchId, 'default');
    expect(cancelled).toMatchObject({ status: 'cancelled', total: 0, uploaded: true });
    expect(cancelled.finishedAt).toBeDefined();
    expect(await batches.open('default', 'big-upload')).toEqual({ batchId });
  });
});

describe('when an upload stopped after staging lines but before adding their jobs', () => {
  it('should cancel those lines too, so the batch still finishes', async () => {
    const { batchId, upload } = await batches.open('default', 'crashed-upload');
    await upload!.abort();
    // What a process killed between the stage and addBulk steps leaves behind: staged lines, no jobs.
    const redis = new Redis(connection);
    const store = new BatchStore(redis, prefix, 60);
    await store.open(batchId, 'default', 'crashed', 60_000);
    expect(await store.stage(batchId, 'crashed', { start: 0, lineBytes: Buffer.from([1, 1, 1]), ids: ['"a"', '"b"', '"c"'], models: ['org/tiny'] }, 60_000)).toBe(3);
    await store.release(batchId, 'crashed');
    await redis.quit();

    const cancelled = await batches.cancel(batchId, 'default');
    expect(cancelled).toMatchObject({ status: 'cancelled', total: 3, accepted: 0, cancelled: 3 });
    expect(cancelled.finishedAt).toBeDefined();
    const results = await collect(await batches.results(batchId, 'default'));
    expect(results.map((line) => [line.id, line.error.code])).toEqual([['a', 'cancelled'], ['b', 'cancelled'], ['c', 'cancelled']]);
  });
});
