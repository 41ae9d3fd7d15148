import { Agent } from 'node:http';
import { requestJson } from './json-request.js';
import type { RerankRequest } from './workload.js';

export interface HttpLoadOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  model: string;
  /** Requests in flight at once. */
  concurrency: number;
  /** Called after each finished request. */
  onProgress?: (done: number, total: number) => void;
  /** Keep each request's scores (`scores` in the result), e.g. to compare two models' rankings. Default false. */
  keepScores?: boolean;
}

export interface HttpLoadResult {
  pairs: number;
  seconds: number;
  pairsPerSecond: number;
  /** Per-request latency in ms, in completion order. */
  latenciesMs: number[];
  /** Per-request time the worker spent on it (tokenize + batch + inference), as the API reports it. */
  inferenceMs: number[];
  /** With `keepScores`: per request of the workload, in its order, each document's score in document order. */
  scores?: number[][];
}

interface RerankReply {
  results?: { index: number; relevance_score: number }[];
  error?: { message: string };
  meta?: { timings_ms?: { inference?: number } };
}

/** Sends every request of the workload to POST /v2/rerank with bounded concurrency. */
export async function driveHttpLoad(workload: readonly RerankRequest[], options: HttpLoadOptions): Promise<HttpLoadResult> {
  const latenciesMs: number[] = [];
  const inferenceMs: number[] = [];
  let next = 0;
  let pairs = 0;
  const scores: number[][] | undefined = options.keepScores ? new Array(workload.length) : undefined;
  const url = new URL('/v2/rerank', options.baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const started = performance.now();
  const worker = async () => {
    while (next < workload.length) {
      const position = next++;
      const request = workload[position]!;
      const sent = performance.now();
      const payload = JSON.stringify({ model: options.model, query: request.query, documents: request.documents });
      const { status, body } = await requestJson<RerankReply>(url, agent, 'POST', { type: 'application/json', text: payload });
      if (status !== 200 || !body.results) throw new Error(`POST /v2/rerank answered ${status}: ${body.error?.message ?? 'no results'}`);
      latenciesMs.push(performance.now() - sent);
      inferenceMs.push(body.meta?.timings_ms?.inference ?? 0);
      if (scores) scores[position] = documentScores(body.results, request.documents.length);
      pairs += request.documents.length;
      options.onProgress?.(latenciesMs.length, workload.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, workload.length) }, worker));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  return { pairs, seconds, pairsPerSecond: pairs / seconds, latenciesMs, inferenceMs, ...(scores && { scores }) };
}

/** The results come sorted by score; put each back at its document's index. */
function documentScores(results: NonNullable<RerankReply['results']>, documents: number): number[] {
  if (results.length !== documents) throw new Error(`POST /v2/rerank returned ${results.length} results for ${documents} documents`);
  const scores = new Array<number>(documents);
  for (const result of results) scores[result.index] = result.relevance_score;
  return scores;
}
