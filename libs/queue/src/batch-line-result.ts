import { Errors, decodeJobFailure, errorDetail, parseRerankJobData, parseRerankJobResult, rerankBodyForJob } from '@rerank-pool/contracts';
import type { BatchResultLine, RerankPoolError } from '@rerank-pool/contracts';
import type { Settlement } from './batch-store.js';

/** The BullMQ job hash fields a line's result is built from (HMGET order). */
export const LINE_JOB_FIELDS = ['data', 'returnvalue', 'failedReason', 'finishedOn', 'timestamp'] as const;

type JobFields = (string | null)[];

/** The results line of a line that failed, was rejected at upload, or was cancelled. */
export function errorLine(id: unknown, index: number, error: RerankPoolError): string {
  const body: BatchResultLine = { id: id as string | number, index, error: errorDetail(error) };
  return JSON.stringify(body);
}

/**
 * Turns a finished line job into its results line, shaped like `/v1/rerank` (top_n and
 * return_documents applied). Undefined while the job has not finished. It is built once, when
 * the line settles, so serving results never touches the jobs (which are then removed).
 */
export function settlementFromJob(jobId: string, index: number, idJson: string | null, fields: JobFields): Settlement | undefined {
  const [rawData, returnvalue, failedReason, finishedOn, timestamp] = fields;
  if (!finishedOn) return undefined;
  const id: unknown = JSON.parse(idJson ?? 'null');
  try {
    if (returnvalue === null || returnvalue === undefined) {
      return { index, outcome: 'failed', line: errorLine(id, index, decodeJobFailure(failedReason ?? undefined, jobId)), pairs: 0 };
    }
    const data = parseRerankJobData(JSON.parse(rawData ?? 'null'));
    const result = parseRerankJobResult(JSON.parse(returnvalue), data.documents.length);
    const body = rerankBodyForJob(data, result, Number(finishedOn) - Number(timestamp));
    const line: BatchResultLine = { id: id as string | number, index, ...body };
    return { index, outcome: 'completed', line: JSON.stringify(line), pairs: data.documents.length };
  } catch (error) {
    const internal = Errors.internal(`job ${jobId} finished with an unreadable result: ${(error as Error).message}`, error);
    return { index, outcome: 'failed', line: errorLine(id, index, internal), pairs: 0 };
  }
}
