/**
 * The one error catalogue of rerank-pool. API and worker throw these; the API maps them to
 * `{error: {code, message, field?}}` in a single handler, and job failures carry the code through
 * Redis (see `encodeJobFailure`) so an error raised in a worker reaches the client unchanged.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  unknown_model: 404,
  job_not_found: 404,
  job_not_cancellable: 409,
  batch_not_found: 404,
  batch_not_finished: 409,
  batch_busy: 409,
  /**
   * A batch line removed by `DELETE /v1/batches/:id` before it ran, or a synchronous request's job
   * stopped because its client went away (a line's or a job's error, never a response).
   */
  cancelled: 409,
  /** The client took longer than the server's request timeout to send its request (answered by the HTTP layer). */
  client_timeout: 408,
  payload_too_large: 413,
  input_too_long: 413,
  /** The request line (or one path parameter) is longer than the server reads. */
  uri_too_long: 414,
  unsupported_media_type: 415,
  overloaded: 429,
  /** The request's header fields together are larger than the server reads (Node's max header size). */
  headers_too_large: 431,
  internal: 500,
  unavailable: 503,
  timeout: 504,
  deadline_exceeded: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface RerankPoolErrorOptions {
  /** The request field at fault, e.g. `documents[3]` or `top_n`. */
  field?: string;
  /** The job concerned, so a client that timed out can poll it. */
  jobId?: string;
  /** Seconds after which retrying makes sense (sent as `Retry-After`). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class RerankPoolError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly field?: string;
  readonly jobId?: string;
  readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, options: RerankPoolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RerankPoolError';
    this.code = code;
    this.statusCode = ERROR_STATUS[code];
    if (options.field !== undefined) this.field = options.field;
    if (options.jobId !== undefined) this.jobId = options.jobId;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}

export function isRerankPoolError(value: unknown): value is RerankPoolError {
  return value instanceof RerankPoolError;
}

function jobLabel(jobId: string | undefined): string {
  return jobId === undefined ? 'the job' : `job ${jobId}`;
}

/** Factories, one per code, so call sites read as what went wrong. */
export const Errors = {
  invalidRequest: (message: string, field?: string) =>
    new RerankPoolError('invalid_request', message, { field }),
  unauthorized: (message = 'missing or malformed Authorization: Bearer <api key> header') =>
    new RerankPoolError('unauthorized', message),
  forbidden: (message = 'the API key is not valid') => new RerankPoolError('forbidden', message),
  notFound: (message: string) => new RerankPoolError('not_found', message),
  unknownModel: (model: string, served: readonly string[]) =>
    new RerankPoolError(
      'unknown_model',
      `model "${model}" is not served here; served models: ${served.join(', ')}`,
      { field: 'model' },
    ),
  jobNotFound: (jobId: string) =>
    new RerankPoolError('job_not_found', `job ${jobId} does not exist or has expired`, { jobId }),
  jobNotCancellable: (jobId: string, status: string) =>
    new RerankPoolError('job_not_cancellable', `job ${jobId} is ${status}; only queued jobs can be cancelled`, {
      jobId,
    }),
  batchNotFound: (batchId: string) =>
    new RerankPoolError('batch_not_found', `batch ${batchId} does not exist or has expired`),
  batchNotFinished: (batchId: string, status: string) =>
    new RerankPoolError('batch_not_finished', `batch ${batchId} is ${status}; its results are served once every line has finished`, {
      retryAfterSeconds: 5,
    }),
  batchBusy: (batchId: string, retryAfterSeconds: number) =>
    new RerankPoolError('batch_busy', `batch ${batchId} is being uploaded by another request; retry once that upload ends`, {
      retryAfterSeconds,
    }),
  lineCancelled: (batchId: string) => new RerankPoolError('cancelled', `batch ${batchId} was cancelled before this line ran`),
  /** The client of a synchronous request went away: its job, if it had one, was cancelled. */
  clientGone: (jobId?: string) =>
    new RerankPoolError(
      'cancelled',
      jobId === undefined
        ? 'the client went away before its job was enqueued; nothing was computed'
        : `job ${jobId} was cancelled: the client waiting for it went away before it finished`,
      { jobId },
    ),
  clientTimeout: (message: string) => new RerankPoolError('client_timeout', message),
  /** No byte of the body arrived for `idleMs` while the server was reading it; the connection is closed after this answer. */
  bodyStalled: (idleMs: number) =>
    new RerankPoolError(
      'client_timeout',
      `no byte of the request body arrived for ${idleMs} ms (HTTP_IDLE_TIMEOUT_MS); send the request again (an upload with an idempotency key continues where it stopped)`,
    ),
  payloadTooLarge: (message: string) => new RerankPoolError('payload_too_large', message),
  uriTooLong: (message: string) => new RerankPoolError('uri_too_long', message),
  headersTooLarge: (message: string) => new RerankPoolError('headers_too_large', message),
  inputTooLong: (message: string, field?: string) =>
    new RerankPoolError('input_too_long', message, { field }),
  overloaded: (message: string, retryAfterSeconds: number) =>
    new RerankPoolError('overloaded', message, { retryAfterSeconds }),
  timeout: (jobId: string, timeoutMs: number) =>
    new RerankPoolError(
      'timeout',
      `job ${jobId} did not finish within ${timeoutMs} ms; poll GET /v1/jobs/${jobId} for its result`,
      { jobId },
    ),
  /** The request's own time ran out before it had a job to point at (admission, enqueue). */
  requestTimeout: (timeoutMs: number, stage: string) =>
    new RerankPoolError('timeout', `the request did not finish within ${timeoutMs} ms: it was still ${stage}; nothing was computed`),
  deadlineExceeded: (jobId: string | undefined, deadline: number) =>
    new RerankPoolError(
      'deadline_exceeded',
      `${jobLabel(jobId)} was still waiting at its deadline ${new Date(deadline).toISOString()}; it was not computed`,
      { jobId },
    ),
  unavailable: (message: string, cause?: unknown) => new RerankPoolError('unavailable', message, { cause }),
  /** A sync request still waiting when its API process stops; the job itself goes on. */
  shuttingDown: (jobId: string) =>
    new RerankPoolError('unavailable', `this API process is shutting down; job ${jobId} goes on: poll GET /v1/jobs/${jobId} for its result`, {
      jobId,
      retryAfterSeconds: 1,
    }),
  internal: (message: string, cause?: unknown) => new RerankPoolError('internal', message, { cause }),
};

// A job failure crosses Redis as BullMQ's `failedReason`, which is only the error message.
// Prefixing the code keeps it readable in dashboards and lets the API restore the typed error.
const FAILURE_PATTERN = /^\[([a-z_]+)\](?:\{([^}]*)\})? ([\s\S]*)$/;

/** The `{code, message, field?}` every error body and error line carries. */
export function errorDetail(error: RerankPoolError): { code: ErrorCode; message: string; field?: string } {
  const detail: { code: ErrorCode; message: string; field?: string } = { code: error.code, message: error.message };
  if (error.field !== undefined) detail.field = error.field;
  return detail;
}

/** The failure message a worker should throw (e.g. `new UnrecoverableError(encodeJobFailure(err))`). */
export function encodeJobFailure(error: RerankPoolError): string {
  const field = error.field === undefined ? '' : `{${error.field}}`;
  return `[${error.code}]${field} ${error.message}`;
}

/** Restores the typed error from a job's `failedReason`; anything unrecognised is `internal`. */
export function decodeJobFailure(failedReason: string | undefined, jobId?: string): RerankPoolError {
  const match = FAILURE_PATTERN.exec(failedReason ?? '');
  if (match && isErrorCode(match[1])) {
    return new RerankPoolError(match[1], match[3], { field: match[2] || undefined, jobId });
  }
  return new RerankPoolError('internal', `${jobLabel(jobId)} failed: ${failedReason || 'no reason recorded'}`, { jobId });
}
