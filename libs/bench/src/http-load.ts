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

/** Sends every request of the workload to POST /v2/rerank with bounded concurrency. */
export async function driveHttpLoad(workload: readonly RerankRequest[], options: HttpLoadOptions): Promise<HttpLoadResult> {
  const latenciesMs: number[] = [];
  const inferenceMs: number[] = [];
  let next = 0;
  let pairs = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < workload.length) {
      const request = workload[next++]!;
      const sent = performance.now();
      const response = await fetch(`${options.baseUrl}/v2/rerank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: options.model, query: request.query, documents: request.documents }),
      });
      const body = (await response.json()) as { results?: unknown[]; error?: { message: string }; meta?: { timings_ms?: { inference?: number } } };
      if (!response.ok || !body.results) throw new Error(`POST /v2/rerank answered ${response.status}: ${body.error?.message ?? 'no results'}`);
      latenciesMs.push(performance.now() - sent);
      inferenceMs.push(body.meta?.timings_ms?.inference ?? 0);
      pairs += request.documents.length;
      options.onProgress?.(latenciesMs.length, workload.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, workload.length) }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { pairs, seconds, pairsPerSecond: pairs / seconds, latenciesMs, inferenceMs };
}
