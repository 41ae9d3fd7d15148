/**
 * How closely two models (here: one model at two precisions) rank the same documents. Each
 * query's documents are scored by both; agreement is measured on the orders, not the scores,
 * because a quantized model may shift every score a little and still rank alike.
 */

export interface RankAgreement {
  /** Queries compared. */
  queries: number;
  /**
   * Mean over queries of Spearman's rank correlation between the two score lists; null when no
   * query had one (see `spearman`).
   */
  spearmanMean: number | null;
  /** Queries left out of `spearmanMean` because either side scored all their documents alike. */
  spearmanUndefined: number;
  /** Mean over queries of |top-k of a ∩ top-k of b| / k, with k = min(`k`, documents). */
  topKOverlapMean: number;
  k: number;
}

/**
 * 1-based ranks by descending score; tied scores share the mean of the ranks they span
 * (fractional ranking), so ties neither help nor hurt the correlation arbitrarily.
 */
export function averageRanks(scores: readonly number[]): number[] {
  const order = scores.map((_, i) => i).sort((x, y) => scores[y]! - scores[x]!);
  const ranks = new Array<number>(scores.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && scores[order[end]!] === scores[order[start]!]) end++;
    const shared = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) ranks[order[i]!] = shared;
    start = end;
  }
  return ranks;
}

/**
 * Spearman's rho with ties: Pearson's correlation of the average ranks. Undefined (returns
 * undefined) when either side has no spread, i.e. fewer than two documents or all scores tied:
 * a constant ranking correlates with nothing.
 */
export function spearman(a: readonly number[], b: readonly number[]): number | undefined {
  sameLength(a, b);
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  // Average ranks of n items always have the mean (n + 1) / 2, ties or not.
  const mean = (a.length + 1) / 2;
  let covariance = 0;
  let varianceA = 0;
  let varianceB = 0;
  for (let i = 0; i < a.length; i++) {
    const da = ra[i]! - mean;
    const db = rb[i]! - mean;
    covariance += da * db;
    varianceA += da * da;
    varianceB += db * db;
  }
  if (varianceA === 0 || varianceB === 0) return undefined;
  // Rounding can carry a perfect correlation a hair past 1.
  return Math.max(-1, Math.min(1, covariance / Math.sqrt(varianceA * varianceB)));
}

/**
 * Indices of the `k` highest scores. Among equal scores the lower index comes first, as in the
 * API's results (a stable sort by score), so a tie at the cut is settled the same way on both sides.
 */
export function topK(scores: readonly number[], k: number): number[] {
  return scores
    .map((_, i) => i)
    .sort((x, y) => scores[y]! - scores[x]! || x - y)
    .slice(0, k);
}

/**
 * |top-k of a ∩ top-k of b| / k. With fewer than `k` documents, k is their number (both top-k
 * are then every document and the overlap is 1): dividing by the nominal k would report
 * disagreement where there is none.
 */
export function topKOverlap(a: readonly number[], b: readonly number[], k: number): number {
  sameLength(a, b);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const cut = Math.min(k, a.length);
  if (cut === 0) return 1;
  const inA = new Set(topK(a, cut));
  return topK(b, cut).filter((i) => inA.has(i)).length / cut;
}

/**
 * Agreement over a workload: `a[q]` and `b[q]` are query q's document scores, in document order,
 * from each side.
 */
export function rankAgreement(a: readonly (readonly number[])[], b: readonly (readonly number[])[], k = 10): RankAgreement {
  if (a.length !== b.length) throw new RangeError(`both sides must score the same queries: ${a.length} against ${b.length}`);
  if (a.length === 0) throw new RangeError('no queries to compare');
  let spearmanSum = 0;
  let spearmanCount = 0;
  let overlapSum = 0;
  for (let q = 0; q < a.length; q++) {
    finiteScores(a[q]!, `a[${q}]`);
    finiteScores(b[q]!, `b[${q}]`);
    const rho = spearman(a[q]!, b[q]!);
    if (rho !== undefined) {
      spearmanSum += rho;
      spearmanCount++;
    }
    overlapSum += topKOverlap(a[q]!, b[q]!, k);
  }
  return {
    queries: a.length,
    spearmanMean: spearmanCount === 0 ? null : spearmanSum / spearmanCount,
    spearmanUndefined: a.length - spearmanCount,
    topKOverlapMean: overlapSum / a.length,
    k,
  };
}

// A NaN makes the sort's comparison inconsistent and the ranks meaningless: say where it is.
function finiteScores(scores: readonly number[], where: string): void {
  const bad = scores.findIndex((score) => !Number.isFinite(score));
  if (bad >= 0) throw new RangeError(`${where}[${bad}] is not a finite score: ${scores[bad]}`);
}

function sameLength(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length) throw new RangeError(`both sides must score the same documents: ${a.length} scores against ${b.length}`);
}
