import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors, isRerankPoolError } from '@rerank-pool/contracts';
import type { RerankPoolError } from '@rerank-pool/contracts';
import { JsonLimitError, JsonScanner, parseScannedJson } from './bounded-json.js';
import type { JsonLimits } from './bounded-json.js';

export interface JsonBodyParserOptions {
  /** What the body may hold, checked as its bytes arrive. */
  limits: JsonLimits;
  /** Largest body in bytes (MAX_BODY_BYTES); a route's own `bodyLimit` wins. */
  bodyLimit: number;
  /**
   * Levels around the body's content that the depth limit does not count (1 for a batch's JSON
   * array, whose elements are held to MAX_JSON_DEPTH one by one). Default 0.
   */
  outerLevels?: number;
  /**
   * Turns the received bytes into `request.body`; errors it throws are answered like the
   * parser's own. Default: JSON.parse of the text the scan passed, refusing poisoning keys.
   */
  finish?: (raw: Buffer) => unknown;
}

/** A scan or parse failure as the 400 the client gets; anything else passes unchanged. */
export function bodyError(error: unknown): unknown {
  if (error instanceof JsonLimitError) return Errors.invalidRequest(`the body ${error.reason}`, 'body');
  if (error instanceof SyntaxError) return Errors.invalidRequest(`the body is not valid JSON: ${error.message}`, 'body');
  return error;
}

function tooLarge(limit: number): RerankPoolError {
  return Errors.payloadTooLarge(`Request body is too large: the limit is ${limit} bytes (MAX_BODY_BYTES)`);
}

const defaultFinish = (raw: Buffer): unknown => parseScannedJson(raw.toString('utf8'));

/**
 * The application/json parser of every route (Fastify's own has no depth limit: one 25 MB
 * `[[[[…]]]]` body took 8.6 s and 1.46 GB to parse, and eight killed the process). Each chunk is
 * scanned as it arrives (`JsonScanner`: microseconds per 64 KB chunk, so the event loop stays
 * free), and a body over a limit stops being kept at once: the rest is read and dropped, then
 * answered 400, so the client, still sending, reads the answer instead of a reset connection.
 * Only a body the scan passed reaches JSON.parse, which then costs time and heap in proportion
 * to its bytes.
 */
export function jsonBodyParser({ limits, bodyLimit, outerLevels = 0, finish = defaultFinish }: JsonBodyParserOptions) {
  return (request: FastifyRequest, payload: IncomingMessage, done: (error: Error | null, body?: unknown) => void): void => {
    const limit = request.routeOptions.bodyLimit ?? bodyLimit;
    const declared = Number(request.headers['content-length']);
    if (declared > limit) {
      done(tooLarge(limit));
      return;
    }
    const scanner = new JsonScanner(limits, outerLevels);
    let chunks: Buffer[] = [];
    let received = 0;
    let refused: unknown;

    const stop = (): void => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
    };
    function onData(chunk: Buffer): void {
      received += chunk.length;
      if (received > limit) {
        stop();
        done(tooLarge(limit));
        return;
      }
      if (refused !== undefined) return;
      try {
        scanner.feed(chunk);
        chunks.push(chunk);
      } catch (error) {
        refused = bodyError(error);
        chunks = [];
      }
    }
    function onEnd(): void {
      stop();
      if (refused !== undefined) {
        done(refused as Error);
        return;
      }
      if (!Number.isNaN(declared) && received !== declared) {
        done(Errors.invalidRequest(`the body has ${received} bytes but Content-Length says ${declared}`, 'body'));
        return;
      }
      if (received === 0) {
        done(Errors.invalidRequest('the body is empty; content-type application/json needs a JSON value', 'body'));
        return;
      }
      // A copy, as Fastify makes: the body never holds on to the socket's read buffers.
      const raw = Buffer.concat(chunks, received);
      chunks = [];
      let body: unknown;
      try {
        body = finish(raw);
      } catch (error) {
        done(bodyError(error) as Error);
        return;
      }
      done(null, body);
    }
    function onError(error: Error): void {
      stop();
      // A typed error of the body stream passes unchanged (a stalled body is 408, see http-limits.ts).
      done(isRerankPoolError(error) ? error : Errors.invalidRequest(`the body could not be read: ${error.message}`, 'body'));
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
  };
}

/** Replaces the application/json parser of `app` (and of the plugins it registers from now on). */
export function installJsonBodyParser(app: FastifyInstance, options: JsonBodyParserOptions): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', jsonBodyParser(options));
}
