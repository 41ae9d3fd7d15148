import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from '@rerank-pool/contracts';
import type { RerankPoolError } from '@rerank-pool/contracts';
import { errorBody, toRerankPoolError } from './error-handler.js';

/**
 * Longest path parameter the router passes on. find-my-way's default (100) answered ids of
 * 101-200 characters with its own 414 although the schemas allow 200; at Node's header limit the
 * router never cuts first, and each parameter's schema (maxLength) answers with a precise 400.
 * The parameters are plain segments (no regex), so their length costs the router nothing.
 */
export const MAX_PARAM_LENGTH = maxHeaderSize;

/** Fastify's `frameworkErrors`: what the router finds before any route (and its error handler) runs. */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const url = request.url.length > 200 ? `${request.url.slice(0, 200)}…` : request.url;
  let mapped: RerankPoolError;
  if (error.code === 'FST_ERR_BAD_URL') {
    mapped = Errors.invalidRequest(`the path of ${url} is not valid percent-encoding (RFC 3986: %XX escapes of UTF-8 bytes)`);
  } else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    mapped = Errors.uriTooLong(`a path parameter of ${url} is longer than ${MAX_PARAM_LENGTH} characters`);
  } else {
    mapped = toRerankPoolError(error);
  }
  reply.status(mapped.statusCode).send(errorBody(mapped));
}

/** Node's parse error, with the chunk that failed (a Buffer, whatever Fastify's type says) and how far into it the parser got. */
type ClientError = Omit<ConnectionError, 'rawPacket' | 'code' | 'bytesParsed'> & { code?: string; rawPacket?: unknown; bytesParsed?: number };

const REQUEST_LINE_START = /^[A-Z]+ \S/;

/**
 * Node counts the request line into its header limit; the failing chunk tells which one ran over
 * when it holds the start of the request and no line break before the failure. (A long request
 * line split over several reads arrives as a continuation chunk: 431 then, which still says the
 * request head was too large.)
 */
function isRequestLineOverflow(error: ClientError): boolean {
  const packet = error.rawPacket;
  if (!Buffer.isBuffer(packet) || !REQUEST_LINE_START.test(packet.subarray(0, 32).toString('latin1'))) return false;
  const lineEnd = packet.indexOf('\r\n');
  return lineEnd === -1 || lineEnd >= (error.bytesParsed ?? packet.length);
}

function clientErrorFor(error: ClientError): RerankPoolError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return isRequestLineOverflow(error)
        ? Errors.uriTooLong(`the request line is longer than the server reads: ${maxHeaderSize} bytes with the headers (Node's --max-http-header-size)`)
        : Errors.headersTooLarge(`the request's header fields are larger than the server reads: ${maxHeaderSize} bytes in all (Node's --max-http-header-size)`);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return Errors.payloadTooLarge('the chunk extensions of the request body are larger than the server reads');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return Errors.clientTimeout('the request was not received in time; send it again');
    default:
      return Errors.invalidRequest(`malformed HTTP request (${error.code ?? 'unknown'}): ${error.message}`);
  }
}

/**
 * Fastify's `clientErrorHandler` (the server's 'clientError'): requests Node's HTTP parser refuses
 * before Fastify sees them (431 headers too large, 414 request line too long, 408, malformed
 * requests) get the documented error body too, written straight to the socket as Node's own
 * handler would, and the connection is closed since the rest of the stream cannot be trusted.
 */
export function answerClientError(this: unknown, error: ClientError, socket: Socket): void {
  // A reset connection has no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const mapped = clientErrorFor(error);
  // Fastify calls this bound to the app; clients that break the protocol are no news at info level.
  (this as FastifyInstance | undefined)?.log?.debug({ err: error }, 'client error answered %d', mapped.statusCode);
  // A response already on its way on this socket (keep-alive) must not be corrupted by a second one.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(errorBody(mapped));
    socket.write(
      `HTTP/1.1 ${mapped.statusCode} ${STATUS_CODES[mapped.statusCode]}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
