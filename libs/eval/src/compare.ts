import { EvalError } from './eval-error.js';
import { METRIC_NAMES, type MetricName, type RunEvaluation } from './metrics.js';

/**
 * Per-query differences smaller than this count as unchanged: re-ranking the same documents
 * reorders floating-point sums, which moves a value by ~1e-16 without any ranking change.
 */
export const UNCHANGED_TOLERANCE = 1e-9;

export interface MetricComparison {
  /** Mean over paired queries of (run - baseline). */
  meanDelta: number;
  improved: number;
  unchanged: number;
  worse: number;
}

export interface RunComparison {
  /** Queries evaluated in both runs; the counts and mean deltas are over these. */
  pairedQueries: number;
  /** Queries evaluated in only one of the runs (possible without `complete`), left out of the comparison. */
  unpairedQueries: number;
  metrics: Record<MetricName, MetricComparison>;
}

/**
 * Compares a run with a baseline query by query: the paired view is what tells whether a
 * re-ranker helps most queries or a few by a lot. Both must have been evaluated with the same
 * k and averaging, or the numbers would not measure the same thing.
 */
export function compareRuns(run: RunEvaluation, baseline: RunEvaluation): RunComparison {
  if (run.k !== baseline.k || run.complete !== baseline.complete) {
    throw new EvalError('EVAL_BAD_OPTION', `cannot compare evaluations made with different options (k ${run.k} vs ${baseline.k}, complete ${run.complete} vs ${baseline.complete})`);
  }
  const paired = [...run.perQuery.keys()].filter((qid) => baseline.perQuery.has(qid));
  const unpaired = run.perQuery.size + baseline.perQuery.size - 2 * paired.length;
  const metrics = {} as Record<MetricName, MetricComparison>;
  for (const name of METRIC_NAMES) {
    const comparison: MetricComparison = { meanDelta: 0, improved: 0, unchanged: 0, worse: 0 };
    let sum = 0;
    for (const qid of paired) {
      const delta = run.perQuery.get(qid)![name] - baseline.perQuery.get(qid)![name];
      sum += delta;
      if (Math.abs(delta) <= UNCHANGED_TOLERANCE) comparison.unchanged++;
      else if (delta > 0) comparison.improved++;
      else comparison.worse++;
    }
    comparison.meanDelta = paired.length > 0 ? sum / paired.length : 0;
    metrics[name] = comparison;
  }
  return { pairedQueries: paired.length, unpairedQueries: unpaired, metrics };
}
