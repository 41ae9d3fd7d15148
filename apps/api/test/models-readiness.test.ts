import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishHeartbeat } from '@rerank-pool/queue';
import { IDLE_MODEL, MODEL, connection, createHarness } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

let harness: Harness;
const redis = new Redis(connection);

beforeAll(async () => {
  harness = await createHarness();
});

afterAll(async () => {
  await redis.quit();
  await harness.close();
});

describe('when no worker has sent a heartbeat', () => {
  it('should be alive but not ready, naming the models without workers', async () => {
    expect((await harness.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await harness.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'not_ready', reasons: [`no live worker for model ${MODEL}`, `no live worker for model ${IDLE_MODEL}`] });
    const models = await harness.app.inject({ method: 'GET', url: '/v1/models' });
    expect(models.json()).toEqual({ data: [{ id: MODEL, aliases: [], workers: 0 }, { id: IDLE_MODEL, aliases: [], workers: 0 }] });
  });
});

describe('when every model has a live worker', () => {
  it('should be ready and list the models with their workers and max_length', async () => {
    await publishHeartbeat(redis, harness.prefix, { model: MODEL, workerId: 'w1', maxLength: 512 }, 10_000);
    await publishHeartbeat(redis, harness.prefix, { model: MODEL, workerId: 'w2', maxLength: 512 }, 10_000);
    await publishHeartbeat(redis, harness.prefix, { model: IDLE_MODEL, workerId: 'w3' }, 10_000);
    const ready = await harness.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
    const models = await harness.app.inject({ method: 'GET', url: '/v1/models' });
    expect(models.json()).toEqual({ data: [{ id: MODEL, aliases: [], max_length: 512, workers: 2 }, { id: IDLE_MODEL, aliases: [], workers: 1 }] });
  });
});
