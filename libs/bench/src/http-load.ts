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
}

export interface HttpLoadResult {
  pairs: number;
  seconds: number;
  pairsPerSecond: number;
  /** Per-request latency in ms, in completion order. */
  latenciesMs: number[];
  /** Per-request time the worker spent on it (tokenize + batch + inference), as the API reports it. */
  inferenceMs: number[];
}

interface RerankReply {
  results?: unknown[];
  error?: { message: string };
  meta?: { timings_ms?: { inference?: number } };
}

/** Sends every request of the workload to POST /v2/rerank with bounded concurrency. */
export async function driveHttpLoad(workload: readonly RerankRequest[], options: HttpLoadOptions): Promise<HttpLoadResult> {
  const latenciesMs: number[] = [];
  const inferenceMs: number[] = [];
  let next = 0;
  let pairs = 0;
  const url = new URL('/v2/rerank', options.baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const started = performance.now();
  const worker = async () => {
    while (next < workload.length) {
      const request = workload[next++]!;
      const sent = performance.now();
      const payload = JSON.stringify({ model: options.model, query: request.query, documents: request.documents });
      const { status, body } = await requestJson<RerankReply>(url, agent, 'POST', { type: 'application/json', text: payload });
      if (status !== 200 || !body.results) throw new Error(`POST /v2/rerank answered ${status}: ${body.error?.message ?? 'no results'}`);
      latenciesMs.push(performance.now() - sent);
      inferenceMs.push(body.meta?.timings_ms?.inference ?? 0);
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
  return { pairs, seconds, pairsPerSecond: pairs / seconds, latenciesMs, inferenceMs };
}
