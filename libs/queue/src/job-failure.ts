import { UnrecoverableError } from 'bullmq';
import { encodeJobFailure, isRerankPoolError } from '@rerank-pool/contracts';

/**
 * What a worker throws for an error that retrying cannot fix (bad input such as
 * `input_too_long`, a deadline that has passed): BullMQ fails the job at once and the API
 * restores the typed error from it. Other errors are rethrown as they are, so BullMQ retries
 * them with backoff.
 */
export function toJobFailure(error: unknown): Error {
  if (isRerankPoolError(error) && (error.statusCode < 500 || error.code === 'deadline_exceeded')) {
    return new UnrecoverableError(encodeJobFailure(error));
  }
  return error instanceof Error ? error : new Error(String(error));
}
