import { RerankPoolError } from '@rerank-pool/contracts';
import type { TeiErrorBody, TeiErrorType } from '@rerank-pool/contracts';

/**
 * TEI's status for each error type (`impl From<&ErrorType> for StatusCode`, TEI
 * router/src/http/server.rs): `Empty` 400, `Validation`/`Tokenizer` 422, `Backend` 424,
 * `Overloaded` 429, `Unhealthy` 503.
 */
export const TEI_STATUS: Record<TeiErrorType, number> = {
  Empty: 400,
  Validation: 422,
  Tokenizer: 422,
  Backend: 424,
  Overloaded: 429,
  Unhealthy: 503,
};

/**
 * An error a TEI route raises itself, in TEI's words and type (e.g. `Empty`: "`texts` cannot be
 * empty"). Still an `invalid_request` of the catalogue, so metrics and logs count it as one.
 */
export class TeiError extends RerankPoolError {
  readonly errorType: TeiErrorType;

  constructor(errorType: TeiErrorType, message: string, field?: string) {
    super('invalid_request', message, { field });
    this.name = 'TeiError';
    this.errorType = errorType;
  }
}

/** A TEI error response (Retry-After, when given, is set by the caller as on every route). */
export interface TeiErrorReply {
  statusCode: number;
  body: TeiErrorBody;
}

/**
 * One of our errors as a TEI route answers it. TEI's types where TEI has the case: schema and
 * limit failures are `Validation` 422 (TEI answers an over-long input 422 too: tokenization.rs
 * "`inputs` must have less than N tokens"), a queue full is `Overloaded` 429, Redis down is
 * `Unhealthy` 503, a failure in a worker (the model) is `Backend` 424. Cases TEI does not have
 * keep our status with the nearest type: a body over the limit 413, auth 401/403, a request
 * timeout 504 (`Backend`: the inference did not answer in time).
 */
export function teiReplyFor(error: RerankPoolError): TeiErrorReply {
  const reply = (statusCode: number, errorType: TeiErrorType): TeiErrorReply => ({ statusCode, body: { error: error.message, error_type: errorType } });
  if (error instanceof TeiError) return reply(TEI_STATUS[error.errorType], error.errorType);
  switch (error.code) {
    case 'invalid_request':
    case 'input_too_long':
      return reply(422, 'Validation');
    case 'overloaded':
      return reply(429, 'Overloaded');
    case 'unavailable':
      return reply(503, 'Unhealthy');
    case 'timeout':
    case 'deadline_exceeded':
      return reply(504, 'Backend');
    default:
      if (error.statusCode >= 500) return reply(424, 'Backend');
      return reply(error.statusCode, 'Validation');
  }
}
