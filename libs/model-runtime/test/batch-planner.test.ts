import { describe, expect, it } from 'vitest';
import { paddingEfficiency, planBatches } from '@rerank-pool/model-runtime';

function lengthsOf(count: number, seed: number): number[] {
  // Passage lengths with a realistic spread: most around 60-120 tokens, a long tail to 512.
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Array.from({ length: count }, () => Math.min(512, Math.round(20 + 80 * Math.exp(next() * 1.6) * next() + 10 * next())));
}

describe('when planning batches', () => {
  it('should place every row exactly once, shortest first', () => {
    const lengths = lengthsOf(500, 7);
    const plan = planBatches(lengths, { maxBatchTokens: 4096, maxBatchRows: 64 });
    const seen = plan.flatMap((batch) => batch.rows).sort((a, b) => a - b);
    expect(seen).toEqual(lengths.map((_, i) => i));
    const order = plan.flatMap((batch) => batch.rows).map((i) => lengths[i]!);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('should keep every batch under the token budget and the row cap', () => {
    const lengths = lengthsOf(500, 11);
    const plan = planBatches(lengths, { maxBatchTokens: 2048, maxBatchRows: 16 });
    for (const batch of plan) {
      expect(batch.rows.length).toBeLessThanOrEqual(16);
      expect(batch.rows.length * batch.paddedLength).toBeLessThanOrEqual(2048);
      expect(batch.paddedLength).toBe(Math.max(...batch.rows.map((i) => lengths[i]!)));
    }
  });

  it('should close a batch early rather than fall below the padding floor', () => {
    const lengths = lengthsOf(300, 13);
    const plan = planBatches(lengths, { maxBatchTokens: 8192, maxBatchRows: 128, minPaddingEfficiency: 0.95 });
    for (const batch of plan) {
      const real = batch.rows.reduce((sum, i) => sum + lengths[i]!, 0);
      expect(real / (batch.rows.length * batch.paddedLength)).toBeGreaterThanOrEqual(0.95);
    }
    // Without the floor the same rows pack into fewer, looser batches.
    expect(planBatches(lengths, { maxBatchTokens: 8192, maxBatchRows: 128 }).length).toBeLessThan(plan.length);
  });

  it('should cut rows in the order given when asked to keep it', () => {
    const plan = planBatches([30, 10, 20, 40, 5], { maxBatchTokens: 60, maxBatchRows: 8, keepOrder: true });
    expect(plan).toEqual([
      { rows: [0, 1], paddedLength: 30 },
      { rows: [2], paddedLength: 20 },
      { rows: [3], paddedLength: 40 },
      { rows: [4], paddedLength: 5 },
    ]);
  });

  it('should give a row longer than the budget a batch of its own', () => {
    const plan = planBatches([10, 600, 12], { maxBatchTokens: 256, maxBatchRows: 8 });
    expect(plan.map((batch) => batch.rows)).toEqual([[0, 2], [1]]);
  });

  it('should waste less than 5% on padding for a realistic spread of lengths', () => {
    const lengths = lengthsOf(2000, 3);
    const plan = planBatches(lengths, { maxBatchTokens: 8192, maxBatchRows: 128 });
    expect(paddingEfficiency(lengths, plan)).toBeGreaterThanOrEqual(0.95);
    // Arrival order without sorting pads far more: the sort is what earns the efficiency.
    const unsorted = [];
    for (let i = 0; i < lengths.length; i += 64) {
      const rows = lengths.slice(i, i + 64).map((_, j) => i + j);
      unsorted.push({ rows, paddedLength: Math.max(...rows.map((r) => lengths[r]!)) });
    }
    expect(paddingEfficiency(lengths, unsorted)).toBeLessThan(0.8);
  });
});
