import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@rerank-pool/config';
import { buildApi } from '../src/index.js';
import { createHarness, MODEL, temporaryBatchStore } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

const LIMIT = 3;
// A long window: the test's requests all land in one, however slow the machine.
const WINDOW_MS = 60_000;
const auth = (tenant: string) => ({ authorization: `Bearer ${tenant}-key` });

let harness: Harness;
let second: FastifyInstance;

beforeAll(async () => {
  harness = await createHarness({
    API_KEYS: 'alpha:alpha-key,beta:beta-key',
    TENANT_RATE_LIMIT: String(LIMIT),
    TENANT_RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
  });
  // A second replica on the same Redis and prefix.
  second = await buildApi({ config: harness.config, logger: false });
});

afterAll(async () => {
  await second?.close();
  await harness?.close();
});

const get = (app: FastifyInstance, url: string, tenant?: string) =>
  app.inject({ method: 'GET', url, headers: tenant === undefined ? {} : auth(tenant) });

describe('when a tenant makes more than TENANT_RATE_LIMIT requests in a window', () => {
  it('should count them across API replicas and answer 429 overloaded with Retry-After', async () => {
    expect((await get(harness.app, '/v1/models', 'alpha')).statusCode).toBe(200);
    expect((await get(second, '/v1/models', 'alpha')).statusCode).toBe(200);
    expect((await get(harness.app, '/v1/models', 'alpha')).statusCode).toBe(200);

    const limited = await get(second, '/v1/models', 'alpha');
    expect(limited.statusCode).toBe(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(limited.json()).toEqual({
      error: {
        code: 'overloaded',
        message: expect.stringMatching(
          new RegExp(`^tenant alpha made more than ${LIMIT} requests within ${WINDOW_MS} ms \\(TENANT_RATE_LIMIT ${LIMIT}, TENANT_RATE_LIMIT_WINDOW_MS ${WINDOW_MS}\\); retry in `),
        ),
      },
    });
    // Refused before the body is read or anything is enqueued.
    const rerank = await harness.app.inject({ method: 'POST', url: '/v1/rerank', payload: { query: 'q', documents: ['10 a'] }, headers: auth('alpha') });
    expect(rerank.statusCode).toBe(429);
    expect(await harness.jobCount(MODEL)).toBe(0);
  });

  it("should leave other tenants' budgets alone", async () => {
    for (const app of [harness.app, second, harness.app]) expect((await get(app, '/v1/models', 'beta')).statusCode).toBe(200);
  });

  it('should not count health, readiness, metrics or the OpenAPI document', async () => {
    for (const url of ['/healthz', '/metrics', '/openapi.json']) {
      for (let i = 0; i <= LIMIT; i++) expect((await get(harness.app, url, 'alpha')).statusCode).toBe(200);
    }
    expect((await get(harness.app, '/readyz', 'alpha')).statusCode).not.toBe(429);
  });

  it('should answer requests without a valid key 401/403 before counting anything', async () => {
    expect((await get(harness.app, '/v1/models')).statusCode).toBe(401);
    expect((await harness.app.inject({ method: 'GET', url: '/v1/models', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(403);
  });
});

describe('when Redis is unreachable', () => {
  it('should let requests through to the usual fast 503 + Retry-After, never a 500 or a 429', async () => {
    const store = temporaryBatchStore();
    const config = loadConfig({
      REDIS_URL: 'redis://127.0.0.1:1',
      RERANK_MODELS: MODEL,
      QUEUE_PREFIX: 'rp-test-rate-limit-no-redis',
      BATCH_STORE_URL: store.url,
      TENANT_RATE_LIMIT: '1',
    });
    const app = await buildApi({ config, logger: false });
    try {
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const response = await app.inject({ method: 'POST', url: '/v1/rerank', payload: { query: 'q', documents: ['a'] } });
        expect(response.statusCode).toBe(503);
        expect(response.headers['retry-after']).toBeDefined();
        expect(response.json().error.code).toBe('unavailable');
        expect(Date.now() - started).toBeLessThan(5000);
      }
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
      store.remove();
    }
  });
});
