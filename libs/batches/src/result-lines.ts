import { rerankBodyForJob } from '@rerank-pool/contracts';
import type { BatchResultLine, RerankJobData, RerankJobResult, RerankPoolError } from '@rerank-pool/contracts';
import { errorDetail } from '@rerank-pool/contracts';

/** The results line of a line that failed, was rejected, or was cancelled. */
export function errorLine(id: string | number, index: number, error: RerankPoolError): string {
  const body: BatchResultLine = { id, index, error: errorDetail(error) };
  return JSON.stringify(body);
}

/** The results line of a computed line, shaped like `/v1/rerank` (its top_n and return_documents applied). */
export function completedLine(data: RerankJobData, result: RerankJobResult, id: string | number, index: number, totalMs: number): string {
  const body: BatchResultLine = { id, index, ...rerankBodyForJob(data, result, totalMs) };
  return JSON.stringify(body);
}
