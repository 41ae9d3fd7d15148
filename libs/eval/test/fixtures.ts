import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Graded judgments for three queries.
 * q1: d1=3, d2=2, d4=1, d9=1 relevant (4 relevant; d9 is never retrieved), d3=0 judged non-relevant.
 * q2: a=1 relevant, b=0.
 * q3: only x=0: no relevant document at all.
 */
export const QRELS = ['q1 0 d1 3', 'q1 0 d2 2', 'q1 0 d3 0', 'q1 0 d4 1', 'q1 0 d9 1', 'q2 0 a 1', 'q2 0 b 0', 'q3 0 x 0', ''].join('\n');

/**
 * d1 and d4 tie at 4; trec_eval puts the greater docid first, so q1 ranks d3, d4, d1, d2, d7.
 * The rank column is deliberately wrong (all 1): trec_eval ignores it.
 * q2 ranks b, a. q3 ranks x. q1's lines are split around q2's to show grouping by qid.
 */
export const RUN = [
  'q1 Q0 d3 1 5 run',
  'q1 Q0 d1 1 4 run',
  'q2 Q0 a 1 1.0 run',
  'q2 Q0 b 1 2.0 run',
  'q1 Q0 d4 1 4 run',
  'q1 Q0 d2 1 1 run',
  'q1 Q0 d7 1 0.5 run',
  'q3 Q0 x 1 1 run',
  '',
].join('\n');

/** Baseline: q1 ranks the unjudged d7 first (d7, d3, d4, d1, d2); q2 ranks a, b (better); q3 as the run. */
export const BASELINE = [
  'q1 Q0 d7 1 9 base',
  'q1 Q0 d3 2 5 base',
  'q1 Q0 d1 3 4 base',
  'q1 Q0 d4 4 4 base',
  'q1 Q0 d2 5 1 base',
  'q2 Q0 a 1 2 base',
  'q2 Q0 b 2 1 base',
  'q3 Q0 x 1 1 base',
  '',
].join('\n');

export const log2 = Math.log2;

/** A temporary directory with helpers to write files into it; `remove()` in afterAll. */
export async function scratchDir(): Promise<{ dir: string; write(name: string, text: string): Promise<string>; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rp-eval-'));
  return {
    dir,
    async write(name, text) {
      const file = join(dir, name);
      await writeFile(file, text);
      return file;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
