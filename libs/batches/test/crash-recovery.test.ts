import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import type { RerankJobData } from '@rerank-pool/contracts';
import { lineQueueNameForModel } from '@rerank-pool/queue';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchLineSettler, lineJobId } from '../src/index.js';
import { BatchRecords } from '../src/batch-records.js';
import { batchFixture, connection, MODEL, requestLine, scoreOf } from './support/batch-fixture.js';
import type { BatchFixture } from './support/batch-fixture.js';

let fixture: BatchFixture;

afterEach(async () => {
  await fixture.close();
});

function lines(count: number): string[] {
  return Array.from({ length: count }, (_, n) => requestLine(n));
}

function expectEveryLineOnce(results: any[], count: number) {
  expect(results.map((line) => line.index)).toEqual(Array.from({ length: count }, (_, n) => n));
  expect(results.map((line) => line.id)).toEqual(Array.from({ length: count }, (_, n) => `line-${n}`));
}

describe('when a worker dies after recording a line and before acknowledging its job', () => {
  it('should count the line once when another worker computes it again', async () => {
    fixture = await batchFixture();
    const service = fixture.service({ windowLines: 50 });
    service.startDriving();
    const settler = new BatchLineSettler(fixture.redis, fixture.prefix);
    const compute = settler.wrap(async (job) => {
      const scores = job.data.documents.map((_, i) => scoreOf(job.data.query, i));
      return { v: 1, model: MODEL, scores, logits: scores, inputTokens: 1, timings: { queueMs: 0, inferenceMs: 0 } };
    });
    // The first worker records each result, then hangs as a killed process would: its jobs are never acknowledged.
    const recorded: number[] = [];
    const dying = new Worker<RerankJobData>(
      lineQueueNameForModel(MODEL),
      async (job, token, signal) => {
        await compute(job, token, signal);
        recorded.push(job.data.batch!.index);
        return new Promise<never>(() => {});
      },
      { connection, prefix: fixture.prefix, concurrency: 4, lockDuration: 1000, stalledInterval: 500 },
    );
    dying.on('error', () => {});
    const batchId = await fixture.upload(service, lines(20));
    while (recorded.length < 4) await new Promise((resolve) => setTimeout(resolve, 20));
    await dying.close(true);

    // The survivor computes those lines again once their locks expire; the last line waits for
    // that, so the batch is still running when the second results arrive.
    const again: number[] = [];
    const survivor = new Worker<RerankJobData>(
      lineQueueNameForModel(MODEL),
      async (job, token, signal) => {
        const index = job.data.batch!.index;
        if (recorded.includes(index)) again.push(index);
        for (const deadline = Date.now() + 15_000; index === 19 && again.length < 4 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
        return compute(job, token, signal);
      },
      { connection, prefix: fixture.prefix, concurrency: 4, lockDuration: 1000, stalledInterval: 500 },
    );
    survivor.on('error', () => {});
    try {
      const state = await fixture.waitFinished(service, batchId);
      expect(again.sort((a, b) => a - b)).toEqual(recorded.sort((a, b) => a - b));
      expect(state).toMatchObject({ status: 'completed', total: 20, completed: 20, failed: 0, cancelled: 0, pairsCompleted: 40 });
      expectEveryLineOnce(await fixture.results(service, batchId), 20);
    } finally {
      await survivor.close();
    }
  });
});

describe('when the driving process goes away mid-run', () => {
  it('should let another process take the batch over and finish it exactly', async () => {
    fixture = await batchFixture();
    const first = fixture.service({ windowLines: 100, feedChunkLines: 25 });
    first.startDriving();
    fixture.worker({ delayMs: 2 });
    const batchId = await fixture.upload(first, lines(1500));
    while ((await first.status(batchId, 'default')).completed < 300) await new Promise((resolve) => setTimeout(resolve, 20));
    await first.close();

    const second = fixture.service({ windowLines: 100, feedChunkLines: 25 });
    second.startDriving();
    const state = await fixture.waitFinished(second, batchId);
    expect(state).toMatchObject({ status: 'completed', total: 1500, completed: 1500, failed: 0, cancelled: 0 });
    expectEveryLineOnce(await fixture.results(second, batchId), 1500);
  });

  it('should add the jobs of a feed it recorded but had not finished adding', async () => {
    fixture = await batchFixture();
    const service = fixture.service({ windowLines: 100 });
    const batchId = await fixture.upload(service, lines(10));
    // A driver that recorded a feed of 10 lines and died before adding their jobs.
    const records = new BatchRecords(fixture.redis, fixture.prefix);
    const token = randomUUID();
    expect(await records.claimDriver(batchId, token, 300)).toBe(true);
    const state = (await records.read(batchId))!;
    const end = { part: 1, offset: 0, physical: 10 };
    const chunk = { lines: Array.from({ length: 10 }, (_, n) => ({ bytes: 10, id: `line-${n}` })), pairs: 20, failures: [] };
    expect(await records.feedBegin(batchId, token, state.feedCursor, end, 0, chunk)).toBe(0);
    expect(await fixture.queue.getJobCountByTypes('waiting', 'prioritized')).toBe(0);

    service.startDriving();
    fixture.worker();
    const finished = await fixture.waitFinished(service, batchId);
    expect(finished).toMatchObject({ completed: 10, total: 10 });
    expectEveryLineOnce(await fixture.results(service, batchId), 10);
  });
});

describe('when a line job disappears without being settled', () => {
  it('should settle that line failed from the reconcile and still finish the batch', async () => {
    fixture = await batchFixture();
    const service = fixture.service({ windowLines: 100 });
    service.startDriving();
    const batchId = await fixture.upload(service, lines(30));
    // No worker yet: remove one waiting job behind the batch's back, as a failure outside any processor would.
    const jobId = lineJobId(batchId, 7);
    while ((await fixture.queue.getJob(jobId)) === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await fixture.queue.remove(jobId)).toBe(1);
    fixture.worker();
    const state = await fixture.waitFinished(service, batchId);
    expect(state).toMatchObject({ total: 30, completed: 29, failed: 1 });
    const results = await fixture.results(service, batchId);
    expectEveryLineOnce(results, 30);
    expect(results[7].error).toMatchObject({ code: 'internal', message: expect.stringContaining('was lost') });
  });
});
