import type { RerankJobResult } from '@rerank-pool/contracts';
import type { CachedPair } from './cached-pair.js';
import type { PairOptions } from './pair-keys.js';

/** What a lookup leaves to compute. */
export interface CacheSplit {
  /** Documents found in the cache. */
  hits: number;
  /** The documents to compute, in request order: none when every one was cached. */
  toCompute: string[];
  /** The cached pairs to merge `toCompute`'s scores into (`mergeCachedResult`); absent when the request is computed whole. */
  merge?: readonly (CachedPair | undefined)[];
}

/**
 * Splits a request by a lookup (`cached[i]` for `documents[i]`): only the misses are computed,
 * except that a request with `truncate: false` and any miss is computed whole (its cached pairs
 * dropped), so its worker names an over-long document by its index in the request.
 */
export function splitByCache(documents: readonly string[], options: PairOptions, cached: readonly (CachedPair | undefined)[]): CacheSplit {
  const toCompute = documents.filter((_, index) => cached[index] === undefined);
  const hits = documents.length - toCompute.length;
  if (toCompute.length > 0 && options.truncate === false) return { hits, toCompute: [...documents] };
  return { hits, toCompute, merge: cached };
}

/** The cached pairs of a job result, one per document, as `ScoreCache.store` takes them. */
export function pairsOfResult(result: RerankJobResult, documentTokens: readonly number[]): CachedPair[] {
  return result.scores.map((score, index) => ({
    score,
    logit: result.logits[index]!,
    tokens: documentTokens[index]!,
    truncated: result.truncated?.[index] ?? false,
    ...(result.chunks ? { chunk: result.chunks[index]! } : {}),
  }));
}

/**
 * A job result assembled from `cached` (one entry per document) and, for the documents without
 * one, `computed`: the result of scoring just those, in their order. `computed` is undefined when
 * every document was cached. Timings are the computation's; a fully cached result took none.
 */
export function mergeCachedResult(args: {
  model: string;
  cached: readonly (CachedPair | undefined)[];
  computed?: RerankJobResult;
  /** Whether results carry chunks (the request asked for max_chunks_per_doc > 1). */
  chunked: boolean;
}): RerankJobResult {
  const { cached, computed, chunked } = args;
  const scores: number[] = [];
  const logits: number[] = [];
  const truncated: boolean[] = [];
  const chunks: NonNullable<RerankJobResult['chunks']> = [];
  let inputTokens = computed?.inputTokens ?? 0;
  let hits = 0;
  let next = 0;
  cached.forEach((pair) => {
    if (pair) {
      hits++;
      inputTokens += pair.tokens;
      scores.push(pair.score);
      logits.push(pair.logit);
      truncated.push(pair.truncated);
      chunks.push(pair.chunk ?? { index: 0, count: 1, startToken: 0 });
      return;
    }
    const at = next++;
    if (!computed) throw new RangeError('a document has neither a cached nor a computed score');
    scores.push(computed.scores[at]!);
    logits.push(computed.logits[at]!);
    truncated.push(computed.truncated?.[at] ?? false);
    chunks.push(computed.chunks?.[at] ?? { index: 0, count: 1, startToken: 0 });
  });
  if (computed && next !== computed.scores.length) throw new RangeError(`${computed.scores.length} computed scores for ${next} uncached documents`);
  return {
    v: 1,
    model: computed?.model ?? args.model,
    scores,
    logits,
    inputTokens,
    timings: computed?.timings ?? { queueMs: 0, inferenceMs: 0 },
    truncated,
    cachedPairs: hits,
    ...(chunked ? { chunks } : {}),
  };
}
