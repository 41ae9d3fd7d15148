import { Errors } from '@rerank-pool/contracts';
import type { RerankJobData } from '@rerank-pool/contracts';

/**
 * Call when a worker picks a job up: a job whose deadline passed while it waited is failed, not
 * computed, because its synchronous caller has already been answered 504. Throws the typed
 * `deadline_exceeded` error; `toJobFailure` makes it final for BullMQ (no retry).
 */
export function checkDeadline(data: RerankJobData, jobId?: string, now = Date.now()): void {
  if (data.deadline !== undefined && now > data.deadline) throw Errors.deadlineExceeded(jobId, data.deadline);
}
