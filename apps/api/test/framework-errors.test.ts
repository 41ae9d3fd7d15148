import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '@rerank-pool/contracts';
import { createHarness, listenOnLoopback } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';
import { expectErrorBody, rawRequest } from './helpers/raw-http.js';

let harness: Harness;
let port: number;

beforeAll(async () => {
  harness = await createHarness({ MAX_BODY_BYTES: '4096' });
  port = await listenOnLoopback(harness.app);
});

afterAll(async () => {
  await harness.close();
});

const get = (url: string) => harness.app.inject({ method: 'GET', url });

describe('when the router refuses a URL', () => {
  it('should answer a bad percent-encoding with 400 in the documented shape', async () => {
    const response = await get('/v1/jobs/%E0%A4%A');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: { code: 'invalid_request', message: 'the path of /v1/jobs/%E0%A4%A is not valid percent-encoding (RFC 3986: %XX escapes of UTF-8 bytes)' },
    });
  });

  it('should let the schema judge ids up to its maxLength, and beyond it answer 400 naming the id', async () => {
    const id = 'j'.repeat(150);
    const job = await get(`/v1/jobs/${id}`);
    expect(job.statusCode).toBe(404);
    expect(job.json().error.code).toBe('job_not_found');
    expect((await get(`/v1/batches/${'b'.repeat(200)}`)).json().error.code).toBe('batch_not_found');
    const tooLong = await get(`/v1/jobs/${'j'.repeat(201)}`);
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toEqual({ error: { code: 'invalid_request', field: 'id', message: 'id must NOT have more than 200 characters' } });
  });

  it("should answer a path parameter longer than the router reads with 414 (only reachable past Node's header limit)", async () => {
    const response = await get(`/v1/jobs/${'j'.repeat(17_000)}`);
    expect(response.statusCode).toBe(414);
    expectErrorBody(response.json(), 'uri_too_long');
  });

  it('should answer unknown routes and methods with 404', async () => {
    for (const [method, url] of [['GET', '/v3/rerank'], ['PATCH', '/v1/rerank'], ['OPTIONS', '/v1/jobs']] as const) {
      const response = await harness.app.inject({ method, url });
      expect(response.statusCode).toBe(404);
      expectErrorBody(response.json(), 'not_found');
    }
  });
});

describe('when a body is refused before its route runs', () => {
  it('should answer 413 and 415 in the documented shape', async () => {
    const large = await harness.app.inject({ method: 'POST', url: '/v1/rerank', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ query: 'q', documents: ['x'.repeat(5000)] }) });
    expect(large.statusCode).toBe(413);
    expectErrorBody(large.json(), 'payload_too_large');
    const xml = await harness.app.inject({ method: 'POST', url: '/v1/rerank', headers: { 'content-type': 'application/xml' }, payload: '<query/>' });
    expect(xml.statusCode).toBe(415);
    expectErrorBody(xml.json(), 'unsupported_media_type');
  });
});

describe("when Node's HTTP parser refuses a request", () => {
  it('should answer a request line over the header limit with 414 uri_too_long', async () => {
    const response = await rawRequest(port, `GET /v1/jobs/${'j'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(response.status).toBe(414);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expectErrorBody(response.json(), 'uri_too_long');
  });

  it('should answer header fields over the limit with 431 headers_too_large', async () => {
    for (const headers of [`X-Big: ${'b'.repeat(20_000)}\r\n`, Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'c'.repeat(40)}\r\n`).join('')]) {
      const response = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
      expect(response.status).toBe(431);
      expectErrorBody(response.json(), 'headers_too_large');
    }
  });

  it('should answer a malformed request with 400 invalid_request', async () => {
    for (const request of ['GE(T / HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', 'GET / HTTP/1.1\r\nBad Header: x\r\n\r\n', 'POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n']) {
      const response = await rawRequest(port, request);
      expect(response.status).toBe(400);
      expectErrorBody(response.json(), 'invalid_request');
    }
  });

  it('should keep serving afterwards', async () => {
    const response = await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });
});

describe('the error catalogue', () => {
  it('should have a code for every status the HTTP layer answers', () => {
    expect(ERROR_STATUS).toMatchObject({ client_timeout: 408, uri_too_long: 414, headers_too_large: 431 });
  });
});
