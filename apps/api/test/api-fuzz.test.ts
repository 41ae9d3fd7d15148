import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from 'bullmq';
import { ERROR_STATUS, TEI_ERROR_TYPES } from '@rerank-pool/contracts';
import type { TeiErrorType } from '@rerank-pool/contracts';
import type { RerankJobData } from '@rerank-pool/contracts';
import { createHarness, listenOnLoopback, startFixedScoreConsumer } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';
import { operationsOf, rawRequestArbitrary, requestArbitrary } from './helpers/fuzz-requests.js';
import type { FuzzRequest, Operation } from './helpers/fuzz-requests.js';
import { rawRequest } from './helpers/raw-http.js';

/**
 * Property: whatever a client sends, the API answers without a 5xx (other than the documented
 * 503 and 504), every error is `{error: {code, message, field?}}` with a code of the catalogue
 * answered with that code's status, except on the TEI routes, which answer TEI's
 * `{error, error_type}` with a status of that type, and the server still answers /healthz
 * afterwards. Fixed seeds keep a run reproducible; the run counts keep the file near 20-30 s.
 */
const SEED = 1010;
const API_KEY = 'fuzz-key';

let harness: Harness;
let consumer: Worker<RerankJobData>;
let operations: Operation[];
let port: number;

beforeAll(async () => {
  harness = await createHarness({
    API_KEYS: `fuzz:${API_KEY}`,
    // Small limits, so random bodies reach them: 413s, too many documents, too long documents.
    MAX_BODY_BYTES: String(64 * 1024),
    MAX_DOCUMENTS: '16',
    MAX_DOCUMENT_CHARS: '2000',
    REQUEST_TIMEOUT_MS: '1500',
  });
  // A real consumer that scores anything, so valid requests go the whole way and answer 200.
  consumer = startFixedScoreConsumer(harness.prefix, (data) => ({
    v: 1,
    model: data.model,
    scores: data.documents.map((_, index) => 1 / (index + 2)),
    logits: data.documents.map((_, index) => -index),
    inputTokens: data.documents.length,
    timings: { queueMs: 1, inferenceMs: 1 },
  }));
  await harness.app.ready();
  operations = operationsOf(harness.app.swagger() as unknown as Parameters<typeof operationsOf>[0]);
  // Routes hidden from the document: the document itself (the queue dashboard is not fuzzed, see fuzz-requests).
  operations.push({ method: 'GET', path: '/openapi.json', params: {}, query: {}, bodies: {} });
  for (const operation of operations.filter((entry) => entry.method === 'GET')) operations.push({ ...operation, method: 'HEAD' });
  port = await listenOnLoopback(harness.app);
});

afterAll(async () => {
  await consumer?.close();
  await harness?.close();
});

function describeExchange(request: FuzzRequest | string, status: number, body: string): string {
  const sent = typeof request === 'string' ? JSON.stringify(request.slice(0, 300)) : `${request.method} ${request.url.slice(0, 200)} ${JSON.stringify(request.headers)} ${JSON.stringify(request.payload?.slice(0, 300))}`;
  return `${sent}\n  -> ${status} ${body.slice(0, 400)}`;
}

/** The documented error shape, with its code's own status. */
function checkError(status: number, body: string, where: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error(`error body is not JSON: ${where}`);
  }
  const error = (parsed as { error?: Record<string, unknown> })?.error;
  expect(error, where).toBeTypeOf('object');
  expect(Object.keys(parsed as object), where).toEqual(['error']);
  expect(typeof error!.code === 'string' && Object.hasOwn(ERROR_STATUS, error!.code), `unknown code: ${where}`).toBe(true);
  expect(ERROR_STATUS[error!.code as keyof typeof ERROR_STATUS], `status of the code: ${where}`).toBe(status);
  expect(typeof error!.message === 'string' && error!.message.length > 0, where).toBe(true);
  for (const key of Object.keys(error!)) expect(['code', 'message', 'field', 'job_id'], where).toContain(key);
  if (error!.field !== undefined) expect(error!.field, where).toBeTypeOf('string');
}

/** The statuses each TEI error type is answered with (TEI's own, and ours where TEI has no such case: 401/403/413/...). */
const TEI_TYPE_STATUSES: Record<TeiErrorType, number[]> = {
  Empty: [400],
  Validation: [401, 403, 404, 408, 409, 413, 414, 415, 422, 431],
  Tokenizer: [422],
  Backend: [424, 504],
  Overloaded: [429],
  Unhealthy: [503],
};

/** The routes that answer in TEI's shape: `METHOD /path`. */
const TEI_ROUTES = new Set(['POST /rerank', 'GET /info', 'GET /health']);

let teiErrorsSeen = 0;

/** TEI's error shape `{error, error_type}`, with a status of its type. */
function checkTeiError(status: number, body: string, where: string): void {
  teiErrorsSeen++;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error(`error body is not JSON: ${where}`);
  }
  const error = parsed as { error?: unknown; error_type?: unknown };
  expect(Object.keys(error).sort(), where).toEqual(['error', 'error_type']);
  expect(typeof error.error === 'string' && error.error.length > 0, where).toBe(true);
  expect(TEI_ERROR_TYPES, `unknown error_type: ${where}`).toContain(error.error_type);
  expect(TEI_TYPE_STATUSES[error.error_type as TeiErrorType], `status of the error_type: ${where}`).toContain(status);
}

function checkResponse(request: FuzzRequest | string, method: string, url: string, status: number, body: string): void {
  const where = describeExchange(request, status, body);
  if (status >= 500) expect([503, 504], `a 5xx other than 503/504: ${where}`).toContain(status);
  if (status < 400 || method === 'HEAD') return;
  // Readiness answers 503 with its own documented body (not ready: no worker heartbeat here).
  if (status === 503 && new URL(url, 'http://fuzz').pathname === '/readyz') {
    expect(JSON.parse(body).status, where).toBe('not_ready');
    return;
  }
  // The route matched as the router does: the path as sent, before any query.
  const path = url.split('?', 1)[0];
  if (TEI_ROUTES.has(`${method} ${path}`)) checkTeiError(status, body, where);
  else checkError(status, body, where);
}

async function expectHealthy(): Promise<void> {
  const health = await harness.app.inject({ method: 'GET', url: '/healthz' });
  expect(health.statusCode).toBe(200);
  const overSocket = await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  expect(overSocket.status).toBe(200);
}

describe('when random requests hit every documented route', () => {
  it('should answer each without an undocumented 5xx, every error in the documented shape', async () => {
    expect(operations.map((operation) => `${operation.method} ${operation.path}`)).toEqual(
      expect.arrayContaining(['POST /v1/rerank', 'POST /v2/rerank', 'POST /rerank', 'GET /info', 'GET /health', 'POST /v1/jobs', 'GET /v1/jobs/{id}', 'DELETE /v1/jobs/{id}', 'POST /v1/batches', 'GET /v1/batches/{id}/results', 'GET /healthz']),
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArbitrary(operations, API_KEY), async (request) => {
        const response = await harness.app.inject({ method: request.method as 'GET', url: request.url, headers: request.headers, payload: request.payload });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        checkResponse(request, request.method, request.url, response.statusCode, response.body);
      }),
      { seed: SEED, numRuns: 8000 },
    );
    console.log(`statuses seen: ${[...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status} x${count}`).join(', ')}`);
    // The run reached both sides: accepted requests and refused ones.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(20);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
    // ...and the TEI routes' errors, checked in TEI's shape.
    console.log(`TEI errors checked: ${teiErrorsSeen}`);
    expect(teiErrorsSeen).toBeGreaterThan(50);
    await expectHealthy();
  });
});

describe('when random raw requests reach a listening server', () => {
  it("should answer what Node's HTTP parser refuses in the documented shape too, and keep serving", async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(rawRequestArbitrary, async (request) => {
        const response = await rawRequest(port, request);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const [method, url] = request.split(' ', 2);
        checkResponse(request, method, url, response.status, response.body);
      }),
      { seed: SEED, numRuns: 1000 },
    );
    console.log(`raw statuses seen: ${[...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status} x${count}`).join(', ')}`);
    expect(statuses.get(414) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(431) ?? 0).toBeGreaterThan(0);
    await expectHealthy();
  });
});
