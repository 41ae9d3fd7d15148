import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateRun, readQrels, readRun, type RunEvaluation } from '@rerank-pool/eval';
import { QRELS, RUN, log2, scratchDir } from './fixtures.js';

describe('when a graded run with ties is evaluated at k=3', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let result: RunEvaluation;

  beforeAll(async () => {
    scratch = await scratchDir();
    const qrels = await readQrels(await scratch.write('qrels.txt', QRELS));
    const run = await readRun(await scratch.write('run.txt', RUN));
    result = evaluateRun(qrels, run, { k: 3 });
  });
  afterAll(() => scratch.remove());

  it('should compute q1 by trec_eval definitions', () => {
    // Ranking d3(0) d4(1) d1(3) | d2(2) d7(-). Relevant: d1, d2, d4, d9 (4).
    // DCG@3 = 0/log2(2) + 1/log2(3) + 3/log2(4); ideal grades 3,2,1,1 -> IDCG@3 = 3/1 + 2/log2(3) + 1/log2(4).
    const ndcg = (1 / log2(3) + 3 / 2) / (3 + 2 / log2(3) + 1 / 2);
    expect(ndcg).toBeCloseTo(0.4475, 4);
    const q1 = result.perQuery.get('q1')!;
    expect(q1.ndcg).toBeCloseTo(ndcg, 12);
    // First relevant doc (d4) at rank 2.
    expect(q1.mrr).toBeCloseTo(1 / 2, 12);
    // d4 and d1 of 4 relevant in the top 3.
    expect(q1.recall).toBeCloseTo(2 / 4, 12);
    // Precision at each relevant retrieved: rank 2 -> 1/2, rank 3 -> 2/3, rank 4 -> 3/4; d9 never retrieved; / 4 relevant.
    expect(q1.map).toBeCloseTo((1 / 2 + 2 / 3 + 3 / 4) / 4, 12);
  });

  it('should compute q2, whose relevant document is second', () => {
    // Ranking b(0) a(1): DCG = 1/log2(3), IDCG = 1/log2(2) = 1.
    expect(result.perQuery.get('q2')).toEqual({ ndcg: expect.closeTo(1 / log2(3), 12), mrr: 0.5, recall: 1, map: 0.5 });
  });

  it('should score a query without relevant documents 0 and count it in the mean, as trec_eval does', () => {
    expect(result.perQuery.get('q3')).toEqual({ ndcg: 0, mrr: 0, recall: 0, map: 0 });
    expect(result.queriesWithoutRelevant).toEqual(['q3']);
    const q1 = result.perQuery.get('q1')!;
    const q2 = result.perQuery.get('q2')!;
    expect(result.perQuery.size).toBe(3);
    expect(result.mean.ndcg).toBeCloseTo((q1.ndcg + q2.ndcg + 0) / 3, 12);
    expect(result.mean.mrr).toBeCloseTo((0.5 + 0.5 + 0) / 3, 12);
    expect(result.mean.recall).toBeCloseTo((0.5 + 1 + 0) / 3, 12);
    expect(result.mean.map).toBeCloseTo(((1 / 2 + 2 / 3 + 3 / 4) / 4 + 0.5 + 0) / 3, 12);
  });

  it('should list queries in trec_eval order', () => {
    expect([...result.perQuery.keys()]).toEqual(['q1', 'q2', 'q3']);
  });
});
