import type { ChunkResult } from '@rerank-pool/contracts';

/** Everything a job result holds about one (query, document) pair, as the worker computed it. */
export interface CachedPair {
  score: number;
  logit: number;
  /** Tokens of the pair's rows (all its chunks), special tokens included: what it bills. */
  tokens: number;
  truncated: boolean;
  /** The winning chunk, for pairs scored with max_chunks_per_doc > 1. */
  chunk?: ChunkResult;
}

/**
 * A double as text that `Number` reads back to the identical double: `String(n)` does that for
 * every finite double but -0, which it writes as "0".
 */
function exactText(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}

/**
 * `score|logit|tokens|truncated[|chunk,count,start]`, numbers as `exactText`, so a cached score is
 * bit for bit the computed one.
 */
export function encodeCachedPair(pair: CachedPair): string {
  const head = `${exactText(pair.score)}|${exactText(pair.logit)}|${pair.tokens}|${pair.truncated ? 1 : 0}`;
  return pair.chunk ? `${head}|${pair.chunk.index},${pair.chunk.count},${pair.chunk.startToken}` : head;
}

/** The pair a cache value holds, or undefined for a value this version does not understand (a miss). */
export function decodeCachedPair(value: string): CachedPair | undefined {
  const parts = value.split('|');
  if (parts.length !== 4 && parts.length !== 5) return undefined;
  const score = Number(parts[0]);
  const logit = Number(parts[1]);
  const tokens = Number(parts[2]);
  if (!Number.isFinite(score) || !Number.isFinite(logit) || !Number.isInteger(tokens) || tokens < 0) return undefined;
  if (parts[3] !== '0' && parts[3] !== '1') return undefined;
  const pair: CachedPair = { score, logit, tokens, truncated: parts[3] === '1' };
  if (parts.length === 5) {
    const [index, count, startToken] = parts[4]!.split(',').map(Number);
    if (![index, count, startToken].every((n) => Number.isInteger(n) && n! >= 0)) return undefined;
    pair.chunk = { index: index!, count: count!, startToken: startToken! };
  }
  return pair;
}
