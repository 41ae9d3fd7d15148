/**
 * Input indices ordered by score, best first. Ties keep input order (Array.sort is stable), so
 * equal scores rank deterministically; the results and the re-ranking signals share this order.
 */
export function rankedOrder(scores: readonly number[]): number[] {
  return scores.map((_, index) => index).sort((a, b) => scores[b]! - scores[a]!);
}
