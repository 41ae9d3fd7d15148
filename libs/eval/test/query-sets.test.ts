import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateRun, readQrels, readRun, type Qrels, type Run } from '@rerank-pool/eval';
import { QRELS, RUN, scratchDir } from './fixtures.js';

describe('when the run and the qrels cover different queries', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let qrels: Qrels;
  let run: Run;

  beforeAll(async () => {
    scratch = await scratchDir();
    // q4 is judged but absent from the run; q5 is in the run but not judged.
    qrels = await readQrels(await scratch.write('qrels.txt', `${QRELS}q4 0 m 2\n`));
    run = await readRun(await scratch.write('run.txt', `${RUN}q5 Q0 n 1 3 run\n`));
  });
  afterAll(() => scratch.remove());

  it('should by default average over queries in both, like trec_eval without -c', () => {
    const result = evaluateRun(qrels, run, { k: 3 });
    expect([...result.perQuery.keys()]).toEqual(['q1', 'q2', 'q3']);
    expect(result.missingQueries).toEqual(['q4']);
    expect(result.unjudgedQueries).toEqual(['q5']);
    expect(result.complete).toBe(false);
  });

  it('should with complete score the missing query 0 and average over all judged queries, like trec_eval -c', () => {
    const partial = evaluateRun(qrels, run, { k: 3 });
    const complete = evaluateRun(qrels, run, { k: 3, complete: true });
    expect([...complete.perQuery.keys()]).toEqual(['q1', 'q2', 'q3', 'q4']);
    expect(complete.perQuery.get('q4')).toEqual({ ndcg: 0, mrr: 0, recall: 0, map: 0 });
    // Same sums, one more query in the denominator: mean x 3/4.
    for (const name of ['ndcg', 'mrr', 'recall', 'map'] as const) expect(complete.mean[name]).toBeCloseTo((partial.mean[name] * 3) / 4, 12);
  });

  it('should refuse a run that shares no query with the qrels', () => {
    expect(() => evaluateRun(qrels, new Map([['other', [{ docid: 'd', score: 1 }]]]))).toThrow(expect.objectContaining({ code: 'EVAL_NO_QUERIES' }));
  });
});
