import type { RerankResult } from './schemas/rerank.js';

export interface RankOptions {
  topN?: number;
  /** The documents' texts, to echo back in `document.text`; omitted means no documents. */
  documents?: readonly string[];
}

/**
 * Orders per-index scores best first and cuts to `topN`. Ties keep input order (Array.sort is
 * stable), so equal scores rank deterministically.
 */
export function rankResults(scores: readonly number[], options: RankOptions = {}): RerankResult[] {
  const ranked = scores
    .map((score, index) => ({ index, score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, options.topN ?? scores.length);
  return ranked.map(({ index, score }) => {
    const result: RerankResult = { index, relevance_score: score };
    if (options.documents) result.document = { text: options.documents[index] };
    return result;
  });
}
