// The run's inputs and their reference scores. Every request (sync, async, batch line) is one of
// a few distinct (query, documents) inputs, so each answer can be checked against a reference
// computed once, outside the service, by `rerank-pool score` (a fresh process per input).
import { join } from 'node:path';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { log, mapLimit } from './util.mjs';

export const TOLERANCE = 1e-4;

/** `count` distinct inputs of 1 query x 4-24 documents of 4-40 words. */
export function makeInputs(count, seed = 17) {
  const next = createRng(seed);
  return Array.from({ length: count }, (_, i) => {
    const documents = Array.from({ length: 4 + Math.floor(next() * 21) }, () => syntheticText(next, 4 + Math.floor(next() * 37)));
    return { key: i, query: `${syntheticText(next, 2 + Math.floor(next() * 5))} q${i}`, documents };
  });
}

/** Scores by document index for each input, from `rerank-pool score --json` (one process each). */
export async function referenceScores({ procs, root, modelDir, inputs, concurrency = 2, timeoutMs = 60_000 }) {
  const cli = join(root, 'bin', 'rerank-pool.js');
  const started = Date.now();
  const scores = await mapLimit(inputs, concurrency, async (input) => {
    const args = [cli, 'score', '--model', modelDir, '--query', input.query, '--json'];
    for (const doc of input.documents) args.push('--doc', doc);
    const proc = procs.spawn(`score-${input.key}`, process.execPath, args, { cwd: root });
    const exit = await proc.waitExit(timeoutMs);
    if (!exit) {
      proc.signal('SIGKILL');
      throw new Error(`rerank-pool score for input ${input.key}: no answer in ${timeoutMs / 1000} s`);
    }
    if (exit.code !== 0) throw new Error(`rerank-pool score for input ${input.key} exited ${exit.code}: ${proc.tail()}`);
    const line = proc.output.split('\n').find((l) => l.startsWith('{'));
    const { results } = JSON.parse(line);
    const byIndex = new Array(input.documents.length);
    for (const r of results) byIndex[r.index] = r.relevance_score;
    return byIndex;
  });
  log(`reference scores for ${inputs.length} inputs (${inputs.reduce((n, i) => n + i.documents.length, 0)} pairs) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return scores;
}

/**
 * Checks Cohere-style `results` ([{index, relevance_score}]) against the reference scores of
 * one input: every index once, each score within TOLERANCE. Returns a reason, or undefined.
 */
export function resultDiffers(results, reference) {
  if (!Array.isArray(results)) return 'no results';
  if (results.length !== reference.length) return `${results.length} results for ${reference.length} documents`;
  const seen = new Set();
  for (const r of results) {
    if (seen.has(r.index)) return `index ${r.index} twice`;
    seen.add(r.index);
    const expected = reference[r.index];
    if (expected === undefined) return `unknown index ${r.index}`;
    if (!(Math.abs(r.relevance_score - expected) <= TOLERANCE)) return `index ${r.index}: ${r.relevance_score} vs reference ${expected}`;
  }
  return undefined;
}

/** True when two result lists give every index the same score (within TOLERANCE). */
export function sameResults(a, b) {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  const byIndex = new Map(a.map((r) => [r.index, r.relevance_score]));
  return b.every((r) => byIndex.has(r.index) && Math.abs(byIndex.get(r.index) - r.relevance_score) <= TOLERANCE);
}
