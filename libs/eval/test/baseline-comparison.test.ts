import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareRuns, evaluateRun, readQrels, readRun, type RunComparison, type RunEvaluation } from '@rerank-pool/eval';
import { BASELINE, QRELS, RUN, log2, scratchDir } from './fixtures.js';

describe('when a run is compared with a baseline', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let run: RunEvaluation;
  let baseline: RunEvaluation;
  let comparison: RunComparison;

  beforeAll(async () => {
    scratch = await scratchDir();
    const qrels = await readQrels(await scratch.write('qrels.txt', QRELS));
    run = evaluateRun(qrels, await readRun(await scratch.write('run.txt', RUN)), { k: 3 });
    baseline = evaluateRun(qrels, await readRun(await scratch.write('base.txt', BASELINE)), { k: 3 });
    comparison = compareRuns(run, baseline);
  });
  afterAll(() => scratch.remove());

  it('should count improved, unchanged and worse queries per metric', () => {
    // q1: baseline d7 d3 d4 | d1 d2 -> run better on all four metrics (nDCG, MRR 1/2 vs 1/3, Recall 2/4 vs 1/4, MAP).
    // q2: baseline a b is perfect -> run worse on nDCG, MRR, MAP; Recall@3 is 1 for both.
    // q3: no relevant document -> 0 for both.
    expect(comparison.pairedQueries).toBe(3);
    expect(comparison.metrics.ndcg).toMatchObject({ improved: 1, unchanged: 1, worse: 1 });
    expect(comparison.metrics.mrr).toMatchObject({ improved: 1, unchanged: 1, worse: 1 });
    expect(comparison.metrics.recall).toMatchObject({ improved: 1, unchanged: 2, worse: 0 });
    expect(comparison.metrics.map).toMatchObject({ improved: 1, unchanged: 1, worse: 1 });
  });

  it('should report the mean per-query difference', () => {
    // Baseline q1 MAP: relevant at ranks 3, 4, 5 -> (1/3 + 2/4 + 3/5) / 4. Run q1 MAP: (1/2 + 2/3 + 3/4) / 4.
    const mapDelta = ((1 / 2 + 2 / 3 + 3 / 4) / 4 - (1 / 3 + 2 / 4 + 3 / 5) / 4 + (0.5 - 1) + 0) / 3;
    expect(comparison.metrics.map.meanDelta).toBeCloseTo(mapDelta, 12);
    // MRR: q1 1/2 - 1/3, q2 1/2 - 1.
    expect(comparison.metrics.mrr.meanDelta).toBeCloseTo((1 / 2 - 1 / 3 + (1 / 2 - 1)) / 3, 12);
    // Baseline q1 DCG@3 = 0 + 0 + 1/log2(4) (d4 third).
    const idcg = 3 + 2 / log2(3) + 1 / 2;
    const q1 = (1 / log2(3) + 3 / 2) / idcg - 1 / 2 / idcg;
    expect(comparison.metrics.ndcg.meanDelta).toBeCloseTo((q1 + (1 / log2(3) - 1)) / 3, 12);
    expect(comparison.metrics.ndcg.meanDelta).toBeCloseTo(run.mean.ndcg - baseline.mean.ndcg, 12);
  });

  it('should treat differences within 1e-9 as unchanged', () => {
    const at = (value: number): RunEvaluation => ({
      k: 10,
      complete: false,
      perQuery: new Map([['q', { ndcg: value, mrr: value, recall: value, map: value }]]),
      mean: { ndcg: value, mrr: value, recall: value, map: value },
      unjudgedQueries: [],
      missingQueries: [],
      queriesWithoutRelevant: [],
    });
    expect(compareRuns(at(0.5 + 1e-12), at(0.5)).metrics.ndcg).toMatchObject({ improved: 0, unchanged: 1, worse: 0 });
    expect(compareRuns(at(0.5 + 1e-6), at(0.5)).metrics.ndcg).toMatchObject({ improved: 1, unchanged: 0, worse: 0 });
  });

  it('should refuse to compare evaluations made at different k', async () => {
    const qrels = await readQrels(await scratch.write('qrels2.txt', QRELS));
    const other = evaluateRun(qrels, await readRun(await scratch.write('run2.txt', RUN)), { k: 5 });
    expect(() => compareRuns(other, baseline)).toThrow(expect.objectContaining({ code: 'EVAL_BAD_OPTION' }));
  });
});
