import { Agent } from 'node:http';
import { requestJson } from './json-request.js';
import type { RerankRequest } from './workload.js';

export interface BatchLoadOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  model: string;
  /** How often the batch's status is read. Default 50 ms. */
  pollMs?: number;
  /** Called after each status read with the lines finished so far. */
  onProgress?: (done: number, total: number) => void;
}

/** The fields of the batch API's answers (202 accepted, status, or an error) read here. */
type BatchReply = Record<string, any>;

export interface BatchLoadResult {
  lines: number;
  pairs: number;
  /** From the start of the upload to the batch reading finished. */
  seconds: number;
  pairsPerSecond: number;
}

/**
 * Runs the workload as one offline batch (`POST /v1/batches`, NDJSON) and times it until every
 * line has finished and the results are written: the batch path's pairs/s, to compare with the
 * online pipeline's on the same requests.
 */
export async function driveBatch(workload: readonly RerankRequest[], options: BatchLoadOptions): Promise<BatchLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const text = workload.map((request, i) => JSON.stringify({ id: i, model: options.model, query: request.query, documents: request.documents })).join('\n');
  const pairs = workload.reduce((sum, request) => sum + request.documents.length, 0);
  try {
    const started = performance.now();
    const accepted = await requestJson<BatchReply>(new URL('/v1/batches', options.baseUrl), agent, 'POST', { type: 'application/x-ndjson', text });
    if (accepted.status !== 202) throw new Error(`POST /v1/batches answered ${accepted.status}: ${accepted.body.error?.message ?? ''}`);
    const statusUrl = new URL(accepted.body.status_url as string, options.baseUrl);
    for (;;) {
      const { status, body } = await requestJson<BatchReply>(statusUrl, agent, 'GET');
      if (status !== 200) throw new Error(`GET ${statusUrl.pathname} answered ${status}: ${body.error?.message ?? ''}`);
      options.onProgress?.(body.completed + body.failed + body.cancelled, workload.length);
      if (body.finished_at !== undefined) {
        if (body.completed !== workload.length) throw new Error(`the batch finished with ${body.completed} of ${workload.length} lines completed (${body.failed} failed)`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 50));
    }
    const seconds = (performance.now() - started) / 1000;
    return { lines: workload.length, pairs, seconds, pairsPerSecond: pairs / seconds };
  } finally {
    agent.destroy();
  }
}
