import { rankedOrder } from './ranked-order.js';
import type { RerankSignalsBody } from './schemas/rerank.js';

/** How many of the first stage's best documents `top10Kept` follows. */
export const TOP_K = 10;

/**
 * Label-free signs of whether re-ranking one request was worth it: how far the cross-encoder moved
 * the first stage's order, how much of the text it read was cut, and how decided its scores are.
 */
export interface RerankSignals {
  /** Documents scored. */
  documents: number;
  /**
   * Kendall's tau between the input order (index 0 first: the first stage's ranking) and the
   * re-ranked order, in [-1, 1]: 1 unchanged, -1 reversed. Tied scores keep their input order in
   * the results (`rankedOrder`), so both orders are strict and tau-a equals tau-b: a tie counts as
   * a concordant pair, the cross-encoder having moved neither. Null below 2 documents.
   */
  kendallTau: number | null;
  /** Of the input's first min(10, n) documents, how many are among the re-ranked first min(10, n). */
  top10Kept: number;
  /** `top10Kept` / min(10, n). */
  top10KeptFraction: number;
  /** Documents cut to fit the model's window (a chunked one: any chunk cut). Null when the result does not say. */
  truncatedDocuments: number | null;
  /** `truncatedDocuments` / n. */
  truncatedFraction: number | null;
  /** Highest minus lowest relevance score. */
  scoreSpread: number;
  /** Population standard deviation of the relevance scores. */
  scoreStdev: number;
}

/**
 * The signals of one request from every document's score (in input order) and, when the worker
 * reported it, whether each was truncated. O(n log n): the order is a sort and the discordant
 * pairs are counted by merge sort (about 0.3 ms for 1,000 documents, mostly the sort).
 */
export function rerankSignals(scores: readonly number[], truncated?: readonly boolean[]): RerankSignals {
  const n = scores.length;
  if (n === 0) throw new RangeError('rerankSignals needs at least one score');
  if (truncated !== undefined && truncated.length !== n) {
    throw new RangeError(`rerankSignals got ${truncated.length} truncation flags for ${n} scores`);
  }
  const order = rankedOrder(scores);
  const k = Math.min(TOP_K, n);
  let top10Kept = 0;
  for (let position = 0; position < k; position++) if (order[position]! < k) top10Kept++;
  const truncatedDocuments = truncated === undefined ? null : truncated.reduce((count, cut) => count + (cut ? 1 : 0), 0);
  return {
    documents: n,
    kendallTau: n < 2 ? null : 1 - (4 * countInversions(order)) / (n * (n - 1)),
    top10Kept,
    top10KeptFraction: top10Kept / k,
    truncatedDocuments,
    truncatedFraction: truncatedDocuments === null ? null : truncatedDocuments / n,
    scoreSpread: scores[order[0]!]! - scores[order[n - 1]!]!,
    scoreStdev: standardDeviation(scores),
  };
}

/** `meta.signals` of a response: the signals in the API's snake_case. */
export function signalsBody(signals: RerankSignals): RerankSignalsBody {
  return {
    documents: signals.documents,
    kendall_tau: signals.kendallTau,
    top10_kept: signals.top10Kept,
    top10_kept_fraction: signals.top10KeptFraction,
    truncated_documents: signals.truncatedDocuments,
    truncated_fraction: signals.truncatedFraction,
    score_spread: signals.scoreSpread,
    score_stdev: signals.scoreStdev,
  };
}

/**
 * Pairs out of input order in `order` (input indices, best first): the discordant pairs. A
 * bottom-up merge sort; each element of the right run that passes elements of the left run
 * counts them. The caller's array is left as it was.
 */
function countInversions(order: readonly number[]): number {
  const n = order.length;
  let from = Int32Array.from(order);
  let to = new Int32Array(n);
  let inversions = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let start = 0; start < n; start += 2 * width) {
      const middle = Math.min(start + width, n);
      const end = Math.min(start + 2 * width, n);
      let left = start;
      let right = middle;
      let out = start;
      while (left < middle && right < end) {
        if (from[left]! <= from[right]!) {
          to[out++] = from[left++]!;
        } else {
          inversions += middle - left;
          to[out++] = from[right++]!;
        }
      }
      while (left < middle) to[out++] = from[left++]!;
      while (right < end) to[out++] = from[right++]!;
    }
    [from, to] = [to, from];
  }
  return inversions;
}

function standardDeviation(values: readonly number[]): number {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  return Math.sqrt(variance);
}
