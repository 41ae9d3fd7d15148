import { Agent, request as httpRequest } from 'node:http';
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
  status: number;
  body: { results?: unknown[]; error?: { message: string }; meta?: { timings_ms?: { inference?: number } } };
}

/**
 * The load generator shares the machine's cores with the service it measures, so it uses plain
 * node:http on kept-alive sockets: `fetch` costs several times more CPU per request.
 */
function postRerank(url: URL, agent: Agent, payload: string): Promise<RerankReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as RerankReply['body'] });
        } catch (error) {
          reject(new Error(`POST ${url.pathname} answered ${res.statusCode} with a body that is not JSON: ${(error as Error).message}`));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
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
      const { status, body } = await postRerank(url, agent, JSON.stringify({ model: options.model, query: request.query, documents: request.documents }));
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
