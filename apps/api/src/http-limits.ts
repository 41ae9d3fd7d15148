import { finished, PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Config } from '@rerank-pool/config';
import { Errors } from '@rerank-pool/contracts';

/**
 * The request line and headers must be complete this long after their first byte (Node's
 * `headersTimeout`; its default is 60 s). They are a few hundred bytes that every real client
 * sends at once; a client that trickles them only holds a connection.
 */
export const HEADERS_TIMEOUT_MS = 5_000;
/**
 * How often Node looks for heads past `HEADERS_TIMEOUT_MS`: a slow head is cut between 5 and 6 s
 * after it began. Node's default check, every 30 s, would let it stay up to 35 s.
 */
const CONNECTIONS_CHECK_MS = 1_000;
/**
 * How long a keep-alive connection may sit between requests. Longer than the idle timeout of the
 * load balancers in front of it (AWS ALB and nginx: 60 s), so the balancer always closes an idle
 * connection first and never sends a request into one this server is closing (a 502). Fastify's
 * default, chosen for the same reason; Node's 5 s would cause exactly those 502s behind an ALB.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;
/** Bytes of a slow body buffered ahead of its reader (Node reads the socket in 64 KiB chunks). */
const BODY_BUFFER_BYTES = 64 * 1024;

/** Fastify's server options for the timeouts above; spread into `Fastify({...})`. */
export function httpServerOptions() {
  return {
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // No bound on a whole request (Node's requestTimeout): a batch upload streams for minutes.
    // Stalling is what is bounded, by installHttpLimits.
    requestTimeout: 0,
    http: { headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: CONNECTIONS_CHECK_MS },
  };
}

interface IdleBoundedBody {
  body: Readable;
  /** Once the response is sent: whatever of the body is still unread is read and dropped, as Node does. */
  release(): void;
}

/**
 * The body as the parsers and handlers read it, cut with `bodyStalled` (408) when no byte
 * arrives for `idleMs` while the reader wants more. Time the reader is the slow side (a batch
 * upload waiting for the store) never counts: the source is paused then, and the client is held
 * back by TCP, not idle. Destroying this stream, not the request, leaves the socket open for the
 * 408 the error handler sends; the source's own failures (a reset connection) pass through.
 */
function idleBoundedBody(source: Readable, idleMs: number, onStall: () => void): IdleBoundedBody {
  const body = new PassThrough({ highWaterMark: BODY_BUFFER_BYTES }) as PassThrough & { receivedEncodedLength: number };
  body.receivedEncodedLength = 0;
  // True while bytes from the client are what the body waits for.
  let waiting = true;
  const timer = setTimeout(() => {
    if (!waiting || body.destroyed) return;
    source.removeListener('data', onData);
    source.pause();
    onStall();
    body.destroy(Errors.bodyStalled(idleMs));
  }, idleMs);
  timer.unref();

  function onData(chunk: Buffer): void {
    // Fastify's body limit reads this from a stream returned by preParsing.
    body.receivedEncodedLength += chunk.length;
    if (body.write(chunk)) {
      timer.refresh();
    } else {
      waiting = false;
      source.pause();
    }
  }
  source.on('data', onData);
  body.on('drain', () => {
    waiting = true;
    // Re-arms the timer even when it fired (and did nothing) while the reader was behind.
    timer.refresh();
    source.resume();
  });
  source.once('end', () => body.end());
  finished(source, (error) => {
    if (error) body.destroy(error);
  });
  body.once('close', () => clearTimeout(timer));
  return {
    body,
    release() {
      clearTimeout(timer);
      if (source.readableEnded || source.destroyed) return;
      // A body its route never read (an early error answer) must not hold a keep-alive
      // connection: Node drops the unread rest of such a body itself, but not once it is piped.
      source.removeListener('data', onData);
      body.destroy();
      source.resume();
    },
  };
}

/** Whether every byte of a body of known length is already buffered in its request. */
function receivedWhole(raw: Readable, contentLength: string | undefined): boolean {
  if (contentLength === undefined) return false;
  const length = Number(contentLength);
  return Number.isSafeInteger(length) && raw.readableLength >= length;
}

/**
 * Limits of the API's HTTP server: HTTP_MAX_CONNECTIONS open connections (Node closes any further
 * one at once), and request bodies cut after HTTP_IDLE_TIMEOUT_MS without a byte. The total
 * duration of a request is not bounded: an upload may take hours as long as it keeps sending.
 */
export function installHttpLimits(app: FastifyInstance, { httpIdleTimeoutMs, httpMaxConnections }: Config): void {
  if (httpMaxConnections > 0) app.server.maxConnections = httpMaxConnections;
  app.addHook('preParsing', async (request, reply, payload) => {
    // A body already received whole cannot stall. Most requests' bodies come with their headers:
    // they are in the request's buffer by now, although Node sets `complete` only once it is read.
    if (request.raw.complete || receivedWhole(request.raw, request.headers['content-length'])) return payload;
    const { body, release } = idleBoundedBody(payload, httpIdleTimeoutMs, () => {
      // The unread rest of the body would be taken for the next request: the connection ends with the 408.
      if (!reply.sent) reply.header('connection', 'close');
    });
    reply.raw.once('finish', release);
    return body;
  });
}
