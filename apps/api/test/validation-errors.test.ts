import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDLE_MODEL, MODEL, createHarness } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

let harness: Harness;

beforeAll(async () => {
  harness = await createHarness({ MAX_DOCUMENTS: '3', MAX_DOCUMENT_CHARS: '50', MAX_BODY_BYTES: '4096' });
});

afterAll(async () => {
  await harness.close();
});

const ok = { query: 'q', documents: ['a', 'b'] };

const cases: { name: string; url: string; body: unknown; status: number; code: string; field?: string; message: string | RegExp }[] = [
  { name: 'an empty query', url: '/v1/rerank', body: { ...ok, query: '' }, status: 400, code: 'invalid_request', field: 'query', message: 'query must NOT have fewer than 1 characters' },
  { name: 'a blank query', url: '/v2/rerank', body: { ...ok, query: '   ' }, status: 400, code: 'invalid_request', field: 'query', message: 'query must not be empty' },
  { name: 'no query', url: '/v1/rerank', body: { documents: ['a'] }, status: 400, code: 'invalid_request', field: 'query', message: 'query is required' },
  { name: 'no documents', url: '/v1/rerank', body: { ...ok, documents: [] }, status: 400, code: 'invalid_request', field: 'documents', message: 'documents must NOT have fewer than 1 items' },
  { name: 'documents not an array', url: '/v1/rerank', body: { ...ok, documents: 'a' }, status: 400, code: 'invalid_request', field: 'documents', message: 'documents must be array' },
  { name: 'more than MAX_DOCUMENTS', url: '/v1/rerank', body: { ...ok, documents: ['a', 'b', 'c', 'd'] }, status: 400, code: 'invalid_request', field: 'documents', message: '4 documents given; the limit is 3 (MAX_DOCUMENTS)' },
  { name: 'a document over MAX_DOCUMENT_CHARS', url: '/v1/rerank', body: { ...ok, documents: ['a', { text: 'x'.repeat(51) }] }, status: 400, code: 'invalid_request', field: 'documents[1]', message: 'documents[1] has 51 characters; the limit is 50 (MAX_DOCUMENT_CHARS)' },
  { name: 'a document of the wrong type', url: '/v1/rerank', body: { ...ok, documents: ['a', 7] }, status: 400, code: 'invalid_request', field: 'documents[1]', message: 'documents[1] must be a string or an object with a string "text"' },
  { name: 'an object document on v2', url: '/v2/rerank', body: { ...ok, documents: [{ text: 'a' }] }, status: 400, code: 'invalid_request', field: 'documents[0]', message: 'documents[0] must be string' },
  { name: 'top_n of 0', url: '/v1/rerank', body: { ...ok, top_n: 0 }, status: 400, code: 'invalid_request', field: 'top_n', message: 'top_n must be >= 1' },
  { name: 'top_n as a string', url: '/v1/rerank', body: { ...ok, top_n: '2' }, status: 400, code: 'invalid_request', field: 'top_n', message: 'top_n must be integer' },
  { name: 'a fractional top_n', url: '/v2/rerank', body: { ...ok, top_n: 1.5 }, status: 400, code: 'invalid_request', field: 'top_n', message: 'top_n must be integer' },
  { name: 'an unknown priority', url: '/v1/rerank', body: { ...ok, priority: 'urgent' }, status: 400, code: 'invalid_request', field: 'priority', message: 'priority must be "interactive", "batch" or a non-negative integer' },
  { name: 'a non-positive timeout_ms', url: '/v1/rerank', body: { ...ok, timeout_ms: 0 }, status: 400, code: 'invalid_request', field: 'timeout_ms', message: 'timeout_ms must be >= 1' },
  { name: 'an unknown model', url: '/v1/rerank', body: { ...ok, model: 'nope/missing' }, status: 404, code: 'unknown_model', field: 'model', message: `model "nope/missing" is not served here; served models: ${MODEL}, ${IDLE_MODEL}` },
  { name: 'a job callback_url without WEBHOOK_SECRET', url: '/v1/jobs', body: { ...ok, callback_url: 'http://127.0.0.1:1/hook' }, status: 400, code: 'invalid_request', field: 'callback_url', message: 'callback_url needs the server to be configured with WEBHOOK_SECRET' },
  { name: 'a job callback_url that is not http', url: '/v1/jobs', body: { ...ok, callback_url: 'ftp://example.com' }, status: 400, code: 'invalid_request', field: 'callback_url', message: 'callback_url must match pattern "^https?://"' },
  { name: 'a body over MAX_BODY_BYTES', url: '/v1/rerank', body: { ...ok, documents: Array.from({ length: 200 }, () => 'x'.repeat(40)) }, status: 413, code: 'payload_too_large', message: /Request body is too large/ },
];

describe('when a request is invalid', () => {
  it.each(cases)('should answer $status for $name and enqueue nothing', async ({ url, body, status, code, field, message }) => {
    const response = await harness.app.inject({ method: 'POST', url, payload: body as object });
    expect(response.statusCode).toBe(status);
    const { error } = response.json<{ error: { code: string; message: string; field?: string } }>();
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
    expect(await harness.jobCount(MODEL)).toBe(0);
  });
});

describe('when the body is not JSON', () => {
  it('should answer 400 invalid_request', async () => {
    const response = await harness.app.inject({ method: 'POST', url: '/v1/rerank', headers: { 'content-type': 'application/json' }, payload: '{"query":' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_request');
    expect(await harness.jobCount(MODEL)).toBe(0);
  });
});

describe('when a job or route does not exist', () => {
  it('should answer 404 with job_not_found or not_found', async () => {
    const job = await harness.app.inject({ method: 'GET', url: '/v1/jobs/no-such-job' });
    expect(job.statusCode).toBe(404);
    expect(job.json()).toEqual({ error: { code: 'job_not_found', message: 'job no-such-job does not exist or has expired', job_id: 'no-such-job' } });
    const cancel = await harness.app.inject({ method: 'DELETE', url: '/v1/jobs/no-such-job' });
    expect(cancel.statusCode).toBe(404);
    const route = await harness.app.inject({ method: 'GET', url: '/v3/rerank' });
    expect(route.statusCode).toBe(404);
    expect(route.json().error).toEqual({ code: 'not_found', message: 'no route GET /v3/rerank' });
  });
});
