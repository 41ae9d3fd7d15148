import { createRng, syntheticText } from '@rerank-pool/model-synth';

export interface WorkloadOptions {
  /** Number of queries (requests). */
  queries: number;
  /** Candidate passages per query. */
  docs: number;
  /** Seed of the generator; the same seed gives the same workload. Default 1. */
  seed?: number;
}

export interface RerankRequest {
  query: string;
  documents: string[];
}

// Passage lengths of first-stage retrieval (MS MARCO-like): a log-normal around a median of
// 60 words with a long tail, cut at 400 words.
const MEDIAN_WORDS = 60;
const SPREAD = 0.6;
const MIN_WORDS = 5;
const MAX_WORDS = 400;

function normal(rng: () => number): number {
  // Box-Muller; 1 - u keeps the logarithm finite.
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

export function passageWords(rng: () => number): number {
  const words = Math.round(MEDIAN_WORDS * Math.exp(SPREAD * normal(rng)));
  return Math.min(MAX_WORDS, Math.max(MIN_WORDS, words));
}

/** A deterministic rerank workload: `queries` requests of `docs` passages each. */
export function generateWorkload(options: WorkloadOptions): RerankRequest[] {
  const rng = createRng(options.seed ?? 1);
  return Array.from({ length: options.queries }, () => ({
    query: syntheticText(rng, 3 + Math.floor(rng() * 8)),
    documents: Array.from({ length: options.docs }, () => syntheticText(rng, passageWords(rng))),
  }));
}

export function countPairs(workload: readonly RerankRequest[]): number {
  return workload.reduce((sum, request) => sum + request.documents.length, 0);
}
