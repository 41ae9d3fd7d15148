import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS } from '../src/http-limits.js';
import { createHarness, listenOnLoopback } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';
import { nextResponse, openConnection, parseResponse, requestHead, sleep } from './helpers/raw-connection.js';

const IDLE_MS = 600;
const MAX_CONNECTIONS = 4;

let harness: Harness;
let port: number;

beforeAll(async () => {
  harness = await createHarness({ HTTP_IDLE_TIMEOUT_MS: String(IDLE_MS), HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS) });
  port = await listenOnLoopback(harness.app);
});

afterAll(async () => {
  await harness.close();
});

const JOB = JSON.stringify({ query: 'what is a cross-encoder', documents: ['10 a', '20 b'] });

function expectClientTimeout(text: string): void {
  const response = parseResponse(text);
  expect(response.status).toBe(408);
  expect(response.headers['connection']).toBe('close');
  expect(JSON.parse(response.body)).toEqual({ error: { code: 'client_timeout', message: expect.stringContaining(`${IDLE_MS} ms (HTTP_IDLE_TIMEOUT_MS)`) } });
}

describe('when a request body stalls', () => {
  it('should cut a JSON body with 408 client_timeout after HTTP_IDLE_TIMEOUT_MS and close the connection', async () => {
    const connection = await openConnection(port);
    connection.write(requestHead('POST', '/v1/rerank', 'application/json', JOB.length) + JOB.slice(0, 20));
    const { text, afterMs } = await connection.closed;
    expectClientTimeout(text);
    expect(afterMs).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(afterMs).toBeLessThan(IDLE_MS + 1500);
    expect(await harness.jobCount()).toBe(0);
  });

  it('should cut a streamed NDJSON upload the same way', async () => {
    const line = `${JSON.stringify({ query: 'q', documents: ['10 a'] })}\n`;
    const connection = await openConnection(port);
    connection.write(requestHead('POST', '/v1/batches', 'application/x-ndjson', 10 * line.length) + line + line.slice(0, 5));
    const { text, afterMs } = await connection.closed;
    expectClientTimeout(text);
    expect(afterMs).toBeLessThan(IDLE_MS + 1500);
  });

  it('should let a body that trickles slower than its whole duration but faster than the idle timeout finish', async () => {
    const connection = await openConnection(port);
    connection.write(requestHead('POST', '/v1/jobs', 'application/json', JOB.length));
    // About 2.5 idle timeouts in all, a byte every third of one.
    const started = Date.now();
    for (let i = 0; i < JOB.length; i += Math.ceil(JOB.length / 8)) {
      connection.write(JOB.slice(i, i + Math.ceil(JOB.length / 8)));
      await sleep(IDLE_MS / 3);
    }
    const response = await nextResponse(connection);
    expect(Date.now() - started).toBeGreaterThan(2 * IDLE_MS);
    expect(response.status).toBe(202);
    expect(JSON.parse(response.body)).toMatchObject({ status: 'queued' });
    connection.socket.destroy();
  });

  it('should keep a keep-alive connection usable after a request was answered without its body being read', async () => {
    const connection = await openConnection(port);
    // An unsupported content type is answered (415) before the body is read; the body, far larger
    // than anything buffered on the way, keeps arriving afterwards and must be read and dropped.
    const body = 'x'.repeat(2 * 1024 * 1024);
    connection.write(requestHead('POST', '/v1/rerank', 'application/xml', body.length) + body.slice(0, 1000));
    const first = await nextResponse(connection);
    expect(first.status).toBe(415);
    const before = connection.received().length;
    connection.write(body.slice(1000));
    connection.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n');
    for (let i = 0; i < 300 && !connection.received().slice(before).includes('\r\n\r\n'); i++) await sleep(10);
    expect(parseResponse(connection.received().slice(before)).status).toBe(200);
    connection.socket.destroy();
  });
});

describe('when the request head arrives too slowly', () => {
  it(`should answer 408 client_timeout within about ${HEADERS_TIMEOUT_MS / 1000} s, however steadily bytes arrive`, async () => {
    const connection = await openConnection(port);
    // A byte every 100 ms: never idle, and never a complete head.
    const trickle = setInterval(() => connection.write('x'), 100);
    try {
      connection.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\nx-slow: ');
      const { text, afterMs } = await connection.closed;
      const response = parseResponse(text);
      expect(response.status).toBe(408);
      expect(JSON.parse(response.body).error.code).toBe('client_timeout');
      expect(afterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      expect(afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 2000);
    } finally {
      clearInterval(trickle);
    }
  }, 15_000);

  it('should close keep-alive connections after a sensible idle time, longer than load balancers keep theirs', () => {
    expect(harness.app.server.headersTimeout).toBe(HEADERS_TIMEOUT_MS);
    expect(harness.app.server.keepAliveTimeout).toBe(KEEP_ALIVE_TIMEOUT_MS);
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(60_000);
    // No bound on a whole request: an upload may stream for as long as it keeps sending.
    expect(harness.app.server.requestTimeout).toBe(0);
  });
});

describe('when more connections are opened than HTTP_MAX_CONNECTIONS', () => {
  it('should close the ones over the limit at once and keep serving the others', async () => {
    const open = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => openConnection(port)));
    // Each is accepted: it is answered.
    for (const connection of open) {
      connection.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n');
      expect((await nextResponse(connection)).status).toBe(200);
    }
    const refused = await openConnection(port).catch(() => undefined);
    if (refused) {
      refused.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n');
      const { text, afterMs } = await refused.closed;
      expect(text).toBe('');
      expect(afterMs).toBeLessThan(1000);
    }
    // A place frees up when a connection closes.
    open[0]!.socket.destroy();
    await open[0]!.closed;
    await sleep(50);
    const next = await openConnection(port);
    next.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n');
    expect((await nextResponse(next)).status).toBe(200);
    for (const connection of [...open, next]) connection.socket.destroy();
  });
});
