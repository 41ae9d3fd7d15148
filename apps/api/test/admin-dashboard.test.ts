import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineQueueNameForModel, queueNameForModel, webhookQueueNameForModel } from '@rerank-pool/queue';
import { createHarness, IDLE_MODEL, MODEL } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

const basic = (user: string, key: string) => `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}`;

describe('when API_KEYS is set', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await createHarness({ API_KEYS: 'admin:admin-key,acme:acme-key' });
  });

  afterAll(async () => {
    await harness?.close();
  });

  const get = (url: string, authorization?: string) => harness.app.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });

  it('should answer 401 without a key, asking browsers for Basic credentials', async () => {
    for (const url of ['/admin/queues', '/admin/queues/api/queues']) {
      const response = await get(url);
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('unauthorized');
      expect(response.headers['www-authenticate']).toMatch(/^Basic realm="rerank-pool admin"/);
    }
  });

  it("should answer 403 to a valid key of another tenant, and to an unknown key", async () => {
    const other = await get('/admin/queues/api/queues', 'Bearer acme-key');
    expect(other.statusCode).toBe(403);
    expect(other.json().error.message).toMatch(/tenant "admin"/);
    expect((await get('/admin/queues', basic('admin', 'wrong-key'))).statusCode).toBe(403);
  });

  it("should open the dashboard with the admin tenant's key, as Bearer or as the Basic password", async () => {
    const page = await get('/admin/queues', 'Bearer admin-key');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const api = await get('/admin/queues/api/queues', basic('anyone', 'admin-key'));
    expect(api.statusCode).toBe(200);
    const names = (api.json() as { queues: Array<{ name: string }> }).queues.map((queue) => queue.name).sort();
    expect(names).toEqual([MODEL, IDLE_MODEL].flatMap((model) => [queueNameForModel(model), lineQueueNameForModel(model), webhookQueueNameForModel(model)]).sort());
  });

  it('should leave the rest of the API to its own keys', async () => {
    const response = await harness.app.inject({ method: 'GET', url: '/v1/models', headers: { authorization: basic('admin', 'admin-key') } });
    expect(response.statusCode).toBe(401);
  });
});

describe('when API_KEYS is unset', () => {
  it('should not serve the dashboard (404), so nobody can pause the queues without credentials', async () => {
    const harness = await createHarness();
    try {
      for (const [method, url] of [['GET', '/admin/queues'], ['GET', '/admin/queues/api/queues'], ['PUT', `/admin/queues/api/queues/${encodeURIComponent(queueNameForModel(MODEL))}/pause`]] as const) {
        const response = await harness.app.inject({ method, url });
        expect(response.statusCode).toBe(404);
        expect(response.json().error.code).toBe('not_found');
      }
      expect(await harness.app.inject({ method: 'GET', url: '/v1/models' }).then((response) => response.statusCode)).toBe(200);
    } finally {
      await harness.close();
    }
  });

  it('should serve it, open, when ADMIN_DASHBOARD=on says so', async () => {
    const harness = await createHarness({ ADMIN_DASHBOARD: 'on' });
    try {
      expect((await harness.app.inject({ method: 'GET', url: '/admin/queues' })).statusCode).toBe(200);
    } finally {
      await harness.close();
    }
  });
});

describe('when API_KEYS is set and ADMIN_DASHBOARD=off', () => {
  it('should not serve the dashboard, even to the admin key', async () => {
    const harness = await createHarness({ API_KEYS: 'admin:admin-key', ADMIN_DASHBOARD: 'off' });
    try {
      const response = await harness.app.inject({ method: 'GET', url: '/admin/queues', headers: { authorization: 'Bearer admin-key' } });
      expect(response.statusCode).toBe(404);
    } finally {
      await harness.close();
    }
  });
});
