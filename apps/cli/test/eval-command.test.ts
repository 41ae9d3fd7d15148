import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

// Two queries with graded judgments. q1 relevant: d1=2, d2=1 (2 relevant). q2 relevant: e1=1 only.
const QRELS = 'q1 0 d1 2\nq1 0 d2 1\nq1 0 d3 0\nq2 0 e1 1\nq2 0 e2 0\n';
// q1: d3 and d1 tie at 0.9; trec_eval ranks the greater docid first -> d3, d1, d2. q2: e1, e2.
const RUN = 'q1 Q0 d1 1 0.9 rr\nq1 Q0 d3 2 0.9 rr\nq1 Q0 d2 3 0.1 rr\nq2 Q0 e1 1 0.8 rr\nq2 Q0 e2 2 0.2 rr\n';
// First stage: q1 d2, d1, d3 (better than the run); q2 e2, e1 (worse than the run).
const BASELINE = 'q1 Q0 d2 1 12 bm25\nq1 Q0 d1 2 11 bm25\nq1 Q0 d3 3 10 bm25\nq2 Q0 e2 1 7 bm25\nq2 Q0 e1 2 6 bm25\n';

const log2 = Math.log2;
// q1 at k=2: ranking d3(0) d1(2) -> DCG = 2/log2(3); ideal 2,1 -> IDCG = 2 + 1/log2(3).
const q1Ndcg = 2 / log2(3) / (2 + 1 / log2(3));
// Baseline q1 at k=2: d2(1) d1(2) -> DCG = 1 + 2/log2(3).
const q1BaseNdcg = (1 + 2 / log2(3)) / (2 + 1 / log2(3));

interface EvalJson {
  k: number;
  queries: number;
  averaged_over: string;
  metrics: Record<string, number>;
  baseline?: Record<string, number>;
  delta?: Record<string, { mean: number; improved: number; unchanged: number; worse: number }>;
  per_query?: Record<string, { metrics: Record<string, number>; baseline?: Record<string, number> }>;
}

describe('when a user evaluates a run with the CLI', () => {
  let root: string;
  let qrels: string;
  let run: string;
  let baseline: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-cli-eval-'));
    [qrels, run, baseline] = [join(root, 'qrels.txt'), join(root, 'run.txt'), join(root, 'bm25.txt')];
    await Promise.all([writeFile(qrels, QRELS), writeFile(run, RUN), writeFile(baseline, BASELINE)]);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('should print the averaged metrics as JSON', async () => {
    const result = await runCli(['eval', '--qrels', qrels, '--run', run, '--k', '2', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as EvalJson;
    expect(json).toMatchObject({ k: 2, queries: 2, averaged_over: expect.stringContaining('trec_eval default') });
    // q1: MRR@2 = 1/2 (d1 at rank 2), Recall@2 = 1/2, MAP = (1/2 + 2/3) / 2. q2: perfect, all 1.
    expect(json.metrics.ndcg).toBeCloseTo((q1Ndcg + 1) / 2, 12);
    expect(json.metrics.mrr).toBeCloseTo((1 / 2 + 1) / 2, 12);
    expect(json.metrics.recall).toBeCloseTo((1 / 2 + 1) / 2, 12);
    expect(json.metrics.map).toBeCloseTo(((1 / 2 + 2 / 3) / 2 + 1) / 2, 12);
    expect(json.baseline).toBeUndefined();
    expect(json.per_query).toBeUndefined();
  });

  it('should compare with a baseline and give per-query values', async () => {
    const result = await runCli(['eval', '--qrels', qrels, '--run', run, '--baseline', baseline, '--k', '2', '--json', '--per-query']);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as EvalJson;
    // q1 is worse on every metric: the baseline ranks both relevant documents first (d2, d1:
    // nDCG q1BaseNdcg, MRR 1, Recall@2 2/2, MAP (1/1 + 2/2)/2 = 1), the run puts d3 first (MRR 1/2,
    // Recall@2 1/2, MAP (1/2 + 2/3)/2). q2 improves from e2, e1 (nDCG 1/log2(3), MRR 1/2,
    // MAP 1/2) to perfect, except Recall@2, which is 1 for both.
    expect(json.delta!.ndcg).toEqual({ mean: expect.closeTo((q1Ndcg - q1BaseNdcg + (1 - 1 / log2(3))) / 2, 12), improved: 1, unchanged: 0, worse: 1 });
    // (1/2 - 1) + (1 - 1/2) = 0: the mean hides that one query got better and one worse.
    expect(json.delta!.mrr).toEqual({ mean: 0, improved: 1, unchanged: 0, worse: 1 });
    expect(json.delta!.recall).toEqual({ mean: -0.25, improved: 0, unchanged: 1, worse: 1 });
    expect(json.delta!.map).toEqual({ mean: expect.closeTo(((1 / 2 + 2 / 3) / 2 - 1 + (1 - 1 / 2)) / 2, 12), improved: 1, unchanged: 0, worse: 1 });
    expect(json.per_query!.q1!.metrics.ndcg).toBeCloseTo(q1Ndcg, 12);
    expect(json.per_query!.q1!.baseline!.ndcg).toBeCloseTo(q1BaseNdcg, 12);
    expect(json.per_query!.q2).toEqual({ metrics: { ndcg: 1, mrr: 1, recall: 1, map: 1 }, baseline: { ndcg: expect.closeTo(1 / log2(3), 12), mrr: 0.5, recall: 1, map: 0.5 } });
  });

  it('should print an aligned table with run, baseline, delta and counts', async () => {
    const result = await runCli(['eval', '--qrels', qrels, '--run', run, '--baseline', baseline, '--k', '2']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('2 queries, averaged over queries in both the qrels and the run (trec_eval default)');
    const table = lines.slice(lines.indexOf('') + 1);
    expect(table[0]!.split(/\s+/)).toEqual(['metric', 'run', 'baseline', 'delta', 'improved', 'same', 'worse']);
    expect(table.map((line) => line.split(/\s+/)[0])).toEqual(['metric', 'nDCG@2', 'MRR@2', 'Recall@2', 'MAP']);
    expect(table[2]!.split(/\s+/)).toEqual(['MRR@2', '0.7500', '0.7500', '0.0000', '1', '0', '1']);
    expect(table[3]!.split(/\s+/)).toEqual(['Recall@2', '0.7500', '1.0000', '-0.2500', '0', '1', '1']);
    // Right-aligned columns end at the same offset on every row.
    expect(new Set(table.map((line) => line.length)).size).toBe(1);
  });

  it('should default to k=10', async () => {
    const result = await runCli(['eval', '--qrels', qrels, '--run', run, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ k: 10 });
  });

  it('should explain a missing --qrels with exit code 2', async () => {
    const result = await runCli(['eval', '--run', run]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--qrels is required');
    expect(result.stderr).toContain('usage: rerank-pool eval');
  });

  it('should name the file and line of a malformed run with exit code 1', async () => {
    const broken = join(root, 'broken.run');
    await writeFile(broken, 'q1 Q0 d1 1 0.9 rr\nq1 Q0 d2 2 high rr\n');
    const result = await runCli(['eval', '--qrels', qrels, '--run', broken]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${broken}:2: score must be a finite number, got "high"`);
    expect(result.stderr).toContain('[EVAL_MALFORMED_LINE]');
  });
});
