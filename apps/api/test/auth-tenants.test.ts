import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

let harness: Harness;
const acme = { authorization: 'Bearer acme-key' };
const globex = { authorization: 'Bearer globex-key' };
const body = { query: 'q', documents: ['10 a'] };

beforeAll(async () => {
  harness = await createHarness({ API_KEYS: 'acme:acme-key,globex:globex-key' });
});

afterAll(async () => {
  await harness.close();
});

describe('when API_KEYS is set', () => {
  it('should answer 401 without a bearer key and 403 with an unknown one, enqueueing nothing', async () => {
    const missing = await harness.app.inject({ method: 'POST', url: '/v1/rerank', payload: body });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('unauthorized');
    const wrong = await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: body, headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error).toEqual({ code: 'forbidden', message: 'the API key is not valid' });
    expect(await harness.jobCount()).toBe(0);
  });

  it('should keep health, readiness and the OpenAPI document public', async () => {
    expect((await harness.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await harness.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200);
    expect((await harness.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
  });
});

describe("when a tenant asks for another tenant's job", () => {
  it('should answer 404 to reads and cancels and leave the job queued', async () => {
    const accepted = await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: body, headers: acme });
    expect(accepted.statusCode).toBe(202);
    const { id } = accepted.json();
    const read = await harness.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: globex });
    expect(read.statusCode).toBe(404);
    expect(read.json().error.code).toBe('job_not_found');
    expect((await harness.app.inject({ method: 'DELETE', url: `/v1/jobs/${id}`, headers: globex })).statusCode).toBe(404);
    const own = await harness.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: acme });
    expect(own.json()).toMatchObject({ id, status: 'queued' });
  });

  it('should keep the same idempotency key of two tenants apart', async () => {
    const payload = { ...body, idempotency_key: 'same-key' };
    const a = (await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload, headers: acme })).json();
    const b = (await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload, headers: globex })).json();
    expect(a.id).not.toBe(b.id);
  });
});
