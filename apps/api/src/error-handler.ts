import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RerankPoolError, errorDetail, isRerankPoolError } from '@rerank-pool/contracts';
import type { ErrorBody, ErrorCode } from '@rerank-pool/contracts';
import { isRedisUnreachable, redisUnavailable } from '@rerank-pool/queue';
import { teiReplyFor } from './tei-errors.js';

type ValidationIssue = NonNullable<FastifyError['validation']>[number];

/** `/documents/3/text` -> `documents[3].text` */
function fieldFromPath(path: string): string {
  return path
    .split('/')
    .filter(Boolean)
    .map((part, index) => (/^\d+$/.test(part) ? `[${part}]` : index === 0 ? part : `.${part}`))
    .join('');
}

const UNION_MESSAGES: Record<string, string> = {
  documents: 'must be a string or an object with a string "text"',
  priority: 'must be "interactive", "batch" or a non-negative integer',
  id: 'must be a non-empty string or an integer',
};

/** A schema validation failure as the typed error every route answers with (also a batch line's error). */
export function fromValidation(issues: readonly ValidationIssue[]): RerankPoolError {
  // An anyOf failure also lists each branch's complaint; the anyOf itself reads best.
  const issue = issues.find((entry) => entry.keyword === 'anyOf') ?? issues[0];
  const { missingProperty: missing, additionalProperty: unknown } = issue.params as { missingProperty?: string; additionalProperty?: string };
  const named = missing ?? unknown;
  const field = fieldFromPath(named ? `${issue.instancePath}/${named}` : issue.instancePath) || 'body';
  const unionMessage = issue.keyword === 'anyOf' ? UNION_MESSAGES[field.replace(/\[\d+\]$/, '')] : undefined;
  // Unknown fields are refused, as Cohere does ("parameter 'top_k' is not a valid field"): a
  // misspelt top_n silently ignored would return every result instead of the best few.
  const message = missing ? 'is required' : unknown ? 'is not a known field' : (unionMessage ?? issue.message ?? 'is invalid');
  return new RerankPoolError('invalid_request', `${field} ${message}`, { field });
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_request',
  404: 'not_found',
  408: 'client_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  431: 'headers_too_large',
};

/** Every failure leaves as `{error: {code, message, field?}}`, mapped here and nowhere else. */
export function toRerankPoolError(error: FastifyError | Error): RerankPoolError {
  if (isRerankPoolError(error)) return error;
  // Whichever command met the outage first, the client gets the same 503 and Retry-After.
  if (isRedisUnreachable(error)) return redisUnavailable(error.message, { cause: error });
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return fromValidation(fastifyError.validation);
  const status = fastifyError.statusCode ?? 500;
  // Any other client error of the framework's is still the client's: a 400, never a 500.
  const code = CODE_BY_STATUS[status] ?? (status >= 400 && status < 500 ? 'invalid_request' : undefined);
  if (code) return new RerankPoolError(code, error.message, { cause: error });
  return new RerankPoolError('internal', `internal error: ${error.message}`, { cause: error });
}

export function errorBody(error: RerankPoolError): ErrorBody {
  const body: ErrorBody = { error: errorDetail(error) };
  if (error.jobId !== undefined) body.error.job_id = error.jobId;
  return body;
}

export function handleError(this: unknown, raw: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const error = toRerankPoolError(raw);
  // An outage answers every request 503: one line each, without a stack, is enough to see it.
  if (error.code === 'unavailable') request.log.warn({ code: error.code }, error.message);
  else if (error.statusCode >= 500) request.log.error({ err: raw }, error.message);
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  // TEI's routes answer in TEI's `{error, error_type}` with its statuses (tei-errors.ts).
  if (request.routeOptions.config?.tei) {
    const tei = teiReplyFor(error);
    return reply.status(tei.statusCode).send(tei.body);
  }
  return reply.status(error.statusCode).send(errorBody(error));
}
