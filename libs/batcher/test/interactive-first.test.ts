import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamicBatcher, type BatchPlan, type Priority } from '@rerank-pool/batcher';
import { InferencePool, relevanceScore, type PackedPairs } from '@rerank-pool/model-runtime';
import { createRng, synthesizeModel, syntheticText } from '@rerank-pool/model-synth';

/** A real pool of `threads` threads on a synthetic tiny model, opened before the describe's tests and closed after. */
function tinyPool(threads: number, seed: number): () => InferencePool {
  let root: string;
  let pool: InferencePool;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-batcher-'));
    await synthesizeModel({ preset: 'tiny', outDir: join(root, 'tiny'), seed });
    pool = await InferencePool.open({ modelDir: join(root, 'tiny'), threads });
  });
  afterAll(async () => {
    await pool?.close();
    await rm(root, { recursive: true, force: true });
  });
  return () => pool;
}

/**
 * Issue 14 in the batcher, on a real one-thread pool: batch-priority batches never wait on the
 * pool (each waiting one would be a whole batch more for the next interactive request to wait
 * behind), and interactive rows go to the pool before the batch rows already waiting.
 */
describe('when interactive rows arrive while batch rows saturate the pool', () => {
  const poolOf = tinyPool(1, 5);
  const rng = createRng(14);
  const lines = Array.from({ length: 12 }, (_, j) => ({
    query: `line ${j} ${syntheticText(rng, 4)}`,
    documents: Array.from({ length: 40 }, () => syntheticText(rng, 5 + Math.floor(rng() * 40))),
  }));
  const probe = { query: 'probe query', documents: Array.from({ length: 20 }, () => syntheticText(rng, 5 + Math.floor(rng() * 30))) };

  it('should run the interactive rows next, never queue batch work on the pool, and score every row as alone', async () => {
    const pool = poolOf();
    const dispatched: Priority[] = [];
    let batchRunning = 0;
    let mostBatchRunning = 0;
    let probeSubmittedAfter = -1;
    let probeDone: Promise<Float32Array> | undefined;
    const probeEncoded = await pool.encode(probe.query, probe.documents);
    const runner = async (rows: PackedPairs, plan: BatchPlan): Promise<Float32Array> => {
      dispatched.push(plan.priority);
      if (plan.priority === 'interactive') return pool.infer(rows);
      batchRunning++;
      mostBatchRunning = Math.max(mostBatchRunning, batchRunning);
      if (probeDone === undefined && dispatched.length === 2) {
        // Two batch batches in: the interactive request arrives, out of this dispatch.
        setImmediate(() => {
          probeSubmittedAfter = dispatched.length;
          probeDone = batcher.submit(probeEncoded, { priority: 'interactive' });
        });
      }
      try {
        return await pool.infer(rows);
      } finally {
        batchRunning--;
      }
    };
    const batcher = new DynamicBatcher(runner, { maxBatchTokens: 512, maxWaitMs: 5, maxInflight: 4, parallelism: 1, threadTasks: () => pool.activeTasks });
    const encoded = await Promise.all(lines.map((line) => pool.encode(line.query, line.documents)));
    const lineLogits = await Promise.all(encoded.map((packed) => batcher.submit(packed, { priority: 'batch' })));
    const probeLogits = await probeDone!;

    // Batch rows were still waiting when the probe came (most batches came after it), yet the
    // probe's rows were the very next to go.
    expect(probeSubmittedAfter).toBeGreaterThan(0);
    expect(dispatched.length - probeSubmittedAfter).toBeGreaterThan(3);
    expect(dispatched[probeSubmittedAfter]).toBe('interactive');
    expect(dispatched.filter((priority) => priority === 'interactive').length).toBeGreaterThanOrEqual(1);
    // One thread: never a second batch-priority batch handed over while one runs.
    expect(mostBatchRunning).toBe(1);

    // Batched with others or alone, every pair scores the same.
    const alone = await pool.score(probe.query, probe.documents);
    probe.documents.forEach((_, i) => expect(Math.abs(relevanceScore(probeLogits, 1, i) - alone.scores[i]!)).toBeLessThanOrEqual(1e-4));
    for (const [j, line] of lines.entries()) {
      const expected = (await pool.score(line.query, line.documents)).scores;
      line.documents.forEach((_, i) => expect(Math.abs(relevanceScore(lineLogits[j]!, 1, i) - expected[i]!)).toBeLessThanOrEqual(1e-4));
    }
  });

  it('should tell when a task handed to the threads now would wait behind batch work', async () => {
    const pool = poolOf();
    const seen: boolean[] = [];
    const batcher: DynamicBatcher = new DynamicBatcher(
      async (rows, plan) => {
        const running = pool.infer(rows);
        seen.push(plan.priority === 'batch' && batcher.behindBatchWork);
        return running;
      },
      { maxBatchTokens: 512, maxWaitMs: 0, parallelism: 1, threadTasks: () => pool.activeTasks },
    );
    expect(batcher.behindBatchWork).toBe(false);
    const encoded = await pool.encode(lines[0]!.query, lines[0]!.documents);
    await batcher.submit(encoded, { priority: 'batch' });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every(Boolean)).toBe(true);
    expect(batcher.behindBatchWork).toBe(false);
  });
});

describe('when an interactive request arrives while batch work holds both threads of a pool', () => {
  const poolOf = tinyPool(2, 6);
  const rng = createRng(41);
  const lines = Array.from({ length: 8 }, (_, j) => ({
    query: `line ${j} ${syntheticText(rng, 4)}`,
    documents: Array.from({ length: 40 }, () => syntheticText(rng, 20 + Math.floor(rng() * 20))),
  }));
  // One length for every row, so length sorting keeps them in one batch: what is split is the split's.
  const probeText = syntheticText(rng, 16);
  const probe = { query: 'probe query', documents: Array.from({ length: 20 }, () => probeText) };

  it('should hand its rows to the pool as one piece per thread, not whole to the first thread to free', async () => {
    const pool = poolOf();
    const dispatched: { priority: Priority; rows: number }[] = [];
    let probeAt = -1;
    let probeDone: Promise<Float32Array> | undefined;
    const probeEncoded = await pool.encode(probe.query, probe.documents);
    const runner = async (rows: PackedPairs, plan: BatchPlan): Promise<Float32Array> => {
      dispatched.push({ priority: plan.priority, rows: plan.rows });
      const batchOnBoth = dispatched.filter((d) => d.priority === 'batch').length === 2;
      if (probeDone === undefined && plan.priority === 'batch' && batchOnBoth) {
        // Both threads run batch work: the interactive request arrives.
        setImmediate(() => {
          probeAt = dispatched.length;
          probeDone = batcher.submit(probeEncoded, { priority: 'interactive' });
        });
      }
      return pool.infer(rows);
    };
    // A budget the whole probe fits in: without the split it would go as one batch.
    const batcher = new DynamicBatcher(runner, { maxBatchTokens: 2048, maxWaitMs: 5, maxInflight: 4, parallelism: 2, threadTasks: () => pool.activeTasks });
    const encoded = await Promise.all(lines.map((line) => pool.encode(line.query, line.documents)));
    expect(probeEncoded.count * Math.max(...Array.from({ length: probeEncoded.count }, (_, i) => probeEncoded.offsets[i + 1]! - probeEncoded.offsets[i]!))).toBeLessThan(2048);
    await Promise.all(encoded.map((packed) => batcher.submit(packed, { priority: 'batch' })));
    const probeLogits = await probeDone!;

    // The next two dispatches after it are its halves, before any more batch work.
    expect(probeAt).toBeGreaterThan(0);
    const next = dispatched.slice(probeAt, probeAt + 2);
    expect(next.map((d) => d.priority)).toEqual(['interactive', 'interactive']);
    expect(next.map((d) => d.rows)).toEqual([10, 10]);
    const alone = await pool.score(probe.query, probe.documents);
    probe.documents.forEach((_, i) => expect(Math.abs(relevanceScore(probeLogits, 1, i) - alone.scores[i]!)).toBeLessThanOrEqual(1e-4));
  });
});

describe('when interactive work is about while batch work runs', () => {
  const poolOf = tinyPool(1, 8);
  const rng = createRng(43);
  const lines = Array.from({ length: 24 }, (_, j) => ({
    query: `line ${j} ${syntheticText(rng, 4)}`,
    documents: Array.from({ length: 40 }, () => syntheticText(rng, 20)),
  }));

  it('should cut batch-priority batches to what runs in batchMsNearInteractive, and only then', async () => {
    const pool = poolOf();
    const plans: { priority: Priority; paddedTokens: number; afterProbe: boolean }[] = [];
    let probeSent = false;
    let probeDone: Promise<Float32Array> | undefined;
    const probeEncoded = await pool.encode('probe', ['a passage', 'another passage']);
    const runner = async (rows: PackedPairs, plan: BatchPlan): Promise<Float32Array> => {
      plans.push({ priority: plan.priority, paddedTokens: plan.paddedTokens, afterProbe: probeSent });
      if (!probeSent && plans.filter((p) => p.priority === 'batch').length === 4) {
        probeSent = true;
        probeDone = batcher.submit(probeEncoded, { priority: 'interactive' });
      }
      return pool.infer(rows, plan.priority);
    };
    // A tiny model computes 4096 tokens in a few ms: 0.2 ms of it is a small fraction of the budget.
    const batcher = new DynamicBatcher(runner, { maxBatchTokens: 4096, maxWaitMs: 5, parallelism: 1, batchMsNearInteractive: 0.2, threadTasks: () => pool.activeTasks });
    const encoded = await Promise.all(lines.map((line) => pool.encode(line.query, line.documents)));
    await Promise.all(encoded.map((packed) => batcher.submit(packed, { priority: 'batch' })));
    await probeDone;

    const batchPlans = (afterProbe: boolean) => plans.filter((p) => p.priority === 'batch' && p.afterProbe === afterProbe).map((p) => p.paddedTokens);
    // Before any interactive row: whole budgets. After: cut short.
    expect(Math.max(...batchPlans(false))).toBeGreaterThan(2048);
    expect(batchPlans(true).length).toBeGreaterThan(2);
    expect(Math.max(...batchPlans(true))).toBeLessThanOrEqual(1024);
  });
});
