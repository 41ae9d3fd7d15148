import { RerankPoolError } from '@rerank-pool/contracts';

/** What a client is told to wait before retrying while Redis is unreachable; reconnects run every second. */
export const REDIS_RETRY_AFTER_SECONDS = 2;

/** Messages ioredis and BullMQ reject commands with when the server cannot be reached. */
const UNREACHABLE_MESSAGES = ['Connection is closed.', 'Command timed out', "Stream isn't writeable", 'Reached the max retries per request limit'];
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** True for an error that says Redis could not be reached, not that a command was wrong. */
export function isRedisUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return true;
  return UNREACHABLE_MESSAGES.some((message) => error.message.startsWith(message));
}

/** The 503 a request gets while Redis is unreachable; `jobId` names a job that may still finish later. */
export function redisUnavailable(detail: string, options: { jobId?: string; cause?: unknown } = {}): RerankPoolError {
  return new RerankPoolError('unavailable', `Redis is unreachable: ${detail}; retry in ${REDIS_RETRY_AFTER_SECONDS} s`, {
    ...options,
    retryAfterSeconds: REDIS_RETRY_AFTER_SECONDS,
  });
}
