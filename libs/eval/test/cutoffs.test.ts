import { describe, expect, it } from 'vitest';
import { evaluateRun, queryMetrics } from '@rerank-pool/eval';
import { log2 } from './fixtures.js';

// q1 of the fixtures, already in trec_eval order: d3(0) d4(1) d1(3) d2(2) d7(unjudged); d9(1) not retrieved.
const ranked = ['d3', 'd4', 'd1', 'd2', 'd7'];
const judged = new Map([
  ['d1', 3],
  ['d2', 2],
  ['d3', 0],
  ['d4', 1],
  ['d9', 1],
]);
const map = (1 / 2 + 2 / 3 + 3 / 4) / 4;

describe('when the cut-off k changes', () => {
  it('should see nothing relevant at k=1', () => {
    // Only d3 (grade 0) is inside the cut-off.
    expect(queryMetrics(ranked, judged, 1)).toEqual({ ndcg: 0, mrr: 0, recall: 0, map: expect.closeTo(map, 12) });
  });

  it('should count d4 at k=2', () => {
    // DCG@2 = 1/log2(3); IDCG@2 = 3 + 2/log2(3); one of 4 relevant; first relevant at rank 2.
    const metrics = queryMetrics(ranked, judged, 2);
    expect(metrics.ndcg).toBeCloseTo(1 / log2(3) / (3 + 2 / log2(3)), 12);
    expect(metrics.mrr).toBe(0.5);
    expect(metrics.recall).toBe(0.25);
  });

  it('should use the whole ranking and the whole ideal list when k exceeds both', () => {
    // DCG@10 = 1/log2(3) + 3/log2(4) + 2/log2(5); ideal 3,2,1,1 -> 3 + 2/log2(3) + 1/log2(4) + 1/log2(5).
    const metrics = queryMetrics(ranked, judged, 10);
    expect(metrics.ndcg).toBeCloseTo((1 / log2(3) + 3 / 2 + 2 / log2(5)) / (3 + 2 / log2(3) + 1 / 2 + 1 / log2(5)), 12);
    expect(metrics.recall).toBe(0.75);
  });

  it('should keep MAP uncut at every k', () => {
    for (const k of [1, 2, 3, 10]) expect(queryMetrics(ranked, judged, k).map).toBeCloseTo(map, 12);
  });

  it('should treat negative grades as non-relevant and leave them out of the ideal ranking', () => {
    // e is graded -1 (trec_eval: in the pool, unjudged). Ideal is just [1]; a at rank 2 -> DCG 1/log2(3).
    const metrics = queryMetrics(['e', 'a'], new Map([['e', -1], ['a', 1]]), 10);
    expect(metrics).toEqual({ ndcg: expect.closeTo(1 / log2(3), 12), mrr: 0.5, recall: 1, map: 0.5 });
  });

  it('should reject a k that is not a positive integer', () => {
    expect(() => evaluateRun(new Map([['q', new Map([['d', 1]])]]), new Map([['q', []]]), { k: 0 })).toThrow(
      expect.objectContaining({ code: 'EVAL_BAD_OPTION', message: expect.stringContaining('k must be a positive integer') }),
    );
  });
});
