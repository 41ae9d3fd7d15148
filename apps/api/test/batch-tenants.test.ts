import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

let harness: Harness;
const acme = { authorization: 'Bearer acme-key' };
const globex = { authorization: 'Bearer globex-key' };
const lines = [{ query: 'q', documents: ['10 a'] }];

beforeAll(async () => {
  harness = await createHarness({ API_KEYS: 'acme:acme-key,globex:globex-key' });
});

afterAll(async () => {
  await harness.close();
});

describe("when a tenant asks for another tenant's batch", () => {
  it('should answer 404 to status, results and cancel, and leave the batch untouched', async () => {
    expect((await harness.app.inject({ method: 'POST', url: '/v1/batches', payload: lines })).statusCode).toBe(401);
    const accepted = await harness.app.inject({ method: 'POST', url: '/v1/batches', payload: lines, headers: acme });
    expect(accepted.statusCode).toBe(202);
    const { id } = accepted.json();
    for (const [method, url] of [['GET', `/v1/batches/${id}`], ['GET', `/v1/batches/${id}/results`], ['DELETE', `/v1/batches/${id}`]] as const) {
      const response = await harness.app.inject({ method, url, headers: globex });
      expect(response.statusCode).toBe(404);
      expect(response.json().error).toEqual({ code: 'batch_not_found', message: `batch ${id} does not exist or has expired` });
    }
    const own = await harness.app.inject({ method: 'GET', url: `/v1/batches/${id}`, headers: acme });
    expect(own.json()).toMatchObject({ id, status: 'queued', total: 1, cancelled: 0 });
  });

  it('should give two tenants using one idempotency key two batches', async () => {
    const url = '/v1/batches?idempotency_key=same-key';
    const a = (await harness.app.inject({ method: 'POST', url, payload: lines, headers: acme })).json();
    const b = (await harness.app.inject({ method: 'POST', url, payload: lines, headers: globex })).json();
    expect(a.id).not.toBe(b.id);
    expect((await harness.app.inject({ method: 'POST', url, payload: lines, headers: acme })).json().id).toBe(a.id);
  });
});
