import type { ChunkResult, RerankJobData, RerankJobResult } from './job-data.js';
import { rankedOrder } from './ranked-order.js';
import { rerankSignals, signalsBody } from './rerank-signals.js';
import type { RerankSignals } from './rerank-signals.js';
import type { RerankDocument, RerankMeta, RerankResult } from './schemas/rerank.js';

export interface RankOptions {
  topN?: number;
  /** The documents to echo back: a text as `{text}`, an object as sent; omitted means no documents. */
  documents?: readonly RerankDocument[];
  /** Each document's winning chunk, reported as `chunk` in its result (jobs that asked for chunks). */
  chunks?: readonly ChunkResult[];
}

/** Orders per-index scores best first (`rankedOrder`: ties keep input order) and cuts to `topN`. */
export function rankResults(scores: readonly number[], options: RankOptions = {}): RerankResult[] {
  const ranked = rankedOrder(scores).slice(0, options.topN ?? scores.length);
  return ranked.map((index) => {
    const result: RerankResult = { index, relevance_score: scores[index]! };
    if (options.documents) {
      const document = options.documents[index]!;
      result.document = typeof document === 'string' ? { text: document } : document;
    }
    const chunk = options.chunks?.[index];
    if (chunk) result.chunk = { index: chunk.index, count: chunk.count, start_token: chunk.startToken };
    return result;
  });
}

export interface RerankBodyOptions extends RankOptions {
  /** Milliseconds from acceptance to answer, as the caller measured it. */
  totalMs: number;
  /** Reported as `meta.signals` (the request's `return_signals`); computed once by a caller that also observes them. */
  signals?: RerankSignals;
}

/**
 * The `results` and `meta` of a finished rerank, shaped like Cohere's response. One builder for
 * every place that answers with it (the sync routes, job status and webhooks, batch result
 * lines), so they cannot drift apart.
 */
export function rerankBody(result: RerankJobResult, options: RerankBodyOptions): { results: RerankResult[]; meta: RerankMeta } {
  return {
    results: rankResults(result.scores, { ...options, chunks: result.chunks }),
    meta: {
      model: result.model,
      billed_units: { search_units: 1 },
      tokens: { input_tokens: result.inputTokens },
      timings_ms: { queue: result.timings.queueMs, inference: result.timings.inferenceMs, total: Math.round(options.totalMs * 100) / 100 },
      ...(options.signals ? { signals: signalsBody(options.signals) } : {}),
      ...(result.cachedPairs === undefined ? {} : { cache: { hits: result.cachedPairs, misses: result.scores.length - result.cachedPairs } }),
    },
  };
}

/** `rerankBody` of a stored job, shaped by its request's `top_n`, `return_documents` and `return_signals` (`data.response`). */
export function rerankBodyForJob(data: RerankJobData, result: RerankJobResult, totalMs: number): { results: RerankResult[]; meta: RerankMeta } {
  return rerankBody(result, {
    topN: data.response?.topN,
    documents: data.response?.returnDocuments ? data.documents : undefined,
    totalMs,
    signals: data.response?.returnSignals ? rerankSignals(result.scores, result.truncated) : undefined,
  });
}
