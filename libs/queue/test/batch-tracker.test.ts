import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Errors, encodeJobFailure } from '@rerank-pool/contracts';
import type { RerankJobData } from '@rerank-pool/contracts';
import { BatchQueue, queueNameForModel } from '../src/index.js';
import { connection, deleteKeys, jobData, resultFor, uniquePrefix, until } from './helpers/redis.js';

const MODEL = 'org/tiny';
const prefixes: string[] = [];
const closers: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(prefix);
});

function setup() {
  const prefix = `${uniquePrefix()}`;
  prefixes.push(prefix);
  const batchQueue = () => {
    const queue = new BatchQueue({ connection, prefix, models: [MODEL], trackerBlockMs: 100 });
    closers.push(() => queue.close());
    return queue;
  };
  /** Scores document i of line q as (q + 1 + i) / 1000; a query "fail" fails for good. */
  const consumer = () => {
    const worker = new Worker<RerankJobData>(
      queueNameForModel(MODEL),
      async (job) => {
        if (job.data.query === 'fail') throw new UnrecoverableError(encodeJobFailure(Errors.inputTooLong('too long', 'documents[0]')));
        const line = Number(job.data.query);
        return resultFor(job.data, job.data.documents.map((_, i) => (line + 1 + i) / 1000));
      },
      { connection, prefix, concurrency: 8 },
    );
    closers.push(() => worker.close());
    return worker;
  };
  const inspector = new Queue(queueNameForModel(MODEL), { connection, prefix });
  closers.push(() => inspector.close());
  return { prefix, batchQueue, consumer, inspector };
}

async function upload(batches: BatchQueue, lines: number, tenant = 'default'): Promise<string> {
  const { batchId, upload } = await batches.open(tenant);
  for (let q = 0; q < lines; q++) {
    const query = q % 10 === 3 ? 'fail' : String(q);
    await upload!.append({ id: `line-${q}`, job: jobData({ query, documents: ['a', 'b'], priority: 'batch', response: { topN: 1 } }) });
  }
  await upload!.seal();
  return batchId;
}

async function collect(lines: AsyncIterable<string>): Promise<any[]> {
  const parsed = [];
  for await (const line of lines) parsed.push(JSON.parse(line));
  return parsed;
}

function expectLines(results: any[], count: number) {
  expect(results).toHaveLength(count);
  results.forEach((line, q) => {
    expect(line.id).toBe(`line-${q}`);
    expect(line.index).toBe(q);
    if (q % 10 === 3) expect(line.error).toEqual({ code: 'input_too_long', message: 'too long', field: 'documents[0]' });
    else expect(line.results).toEqual([{ index: 1, relevance_score: (q + 2) / 1000 }]);
  });
}

describe('when two API replicas track the same batch', () => {
  it('should count every line exactly once, keep results in input order and remove settled jobs', async () => {
    const { batchQueue, consumer, inspector } = setup();
    const replicas = [batchQueue(), batchQueue()];
    for (const replica of replicas) replica.startTracking();
    const batchId = await upload(replicas[0]!, 120);
    consumer();
    await until(async () => (await replicas[1]!.status(batchId, 'default')).finishedAt !== undefined, 20_000);

    expect((await replicas[0]!.cancel(batchId, 'default')).status).toBe('completed');
    const state = await replicas[0]!.status(batchId, 'default');
    expect(state).toMatchObject({ status: 'completed', total: 120, completed: 108, failed: 12, cancelled: 0, pairsTotal: 240, pairsCompleted: 216 });
    expectLines(await collect(await replicas[1]!.results(batchId, 'default')), 120);
    await until(async () => (await inspector.getJobCounts('completed', 'failed')).completed === 0);
  });
});

describe('when lines finish while no tracker runs and their events are trimmed away', () => {
  it('should reconcile from the jobs on start and finish the batch', async () => {
    const { prefix, batchQueue, consumer, inspector } = setup();
    const first = batchQueue();
    first.startTracking();
    const redis = new Redis(connection);
    const cursorKey = `${prefix}:batch-tracker:${queueNameForModel(MODEL)}`;
    const batchId = await upload(first, 40);
    // A running batch wakes the tracker, which then starts its cursor at the stream's end.
    await until(async () => (await redis.get(cursorKey)) !== null);
    await first.close();

    const worker = consumer();
    await until(async () => (await inspector.getJobCounts('completed', 'failed')).completed === 36);
    await worker.close();
    await redis.xtrim(inspector.keys.events, 'MAXLEN', 0);
    await redis.quit();

    const second = batchQueue();
    expect((await second.status(batchId, 'default')).finishedAt).toBeUndefined();
    second.startTracking();
    await until(async () => (await second.status(batchId, 'default')).finishedAt !== undefined);
    expect(await second.status(batchId, 'default')).toMatchObject({ completed: 36, failed: 4 });
    expectLines(await collect(await second.results(batchId, 'default')), 40);
  });
});

describe('when no batch is running', () => {
  it('should leave the event streams alone (no cursor kept) until a batch is opened, then settle it', async () => {
    const { prefix, batchQueue, consumer, inspector } = setup();
    const batches = batchQueue();
    batches.startTracking();
    consumer();
    const online = new Queue(queueNameForModel(MODEL), { connection, prefix });
    closers.push(() => online.close());
    for (let i = 0; i < 5; i++) await online.add('rerank', jobData({ query: String(i) }));
    await until(async () => (await inspector.getJobCounts('completed')).completed === 5);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const redis = new Redis(connection);
    closers.push(() => redis.quit());
    const cursorKey = `${prefix}:batch-tracker:${queueNameForModel(MODEL)}`;
    expect(await redis.get(cursorKey)).toBeNull();

    const batchId = await upload(batches, 5);
    await until(async () => (await batches.status(batchId, 'default')).finishedAt !== undefined);
    expect(await redis.get(cursorKey)).not.toBeNull();
    expectLines(await collect(await batches.results(batchId, 'default')), 5);
  });
});

describe('when the results of a running batch are asked for', () => {
  it('should answer batch_not_finished (409) with Retry-After', async () => {
    const { batchQueue } = setup();
    const batches = batchQueue();
    const batchId = await upload(batches, 3);
    await expect(batches.results(batchId, 'default')).rejects.toMatchObject({ code: 'batch_not_finished', statusCode: 409, retryAfterSeconds: 5 });
  });
});
