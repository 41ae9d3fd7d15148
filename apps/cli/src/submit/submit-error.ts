/**
 * A failure of `submit` outside the usage: the API unreachable or answering an error (whose
 * code, e.g. `batch_busy`, is kept so the CLI prints it), or an input that cannot be sent.
 */
export class SubmitError extends Error {
  readonly code: string;
  /** The HTTP status, for errors the API answered. */
  readonly status?: number;
  /** Seconds the API asked to wait before trying again (`Retry-After`). */
  readonly retryAfterSeconds?: number;

  constructor(code: string, message: string, options: { status?: number; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SubmitError';
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
