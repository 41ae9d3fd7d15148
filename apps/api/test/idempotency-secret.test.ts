import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/index.js';
import { connection, createHarness } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

// Two deployments (own QUEUE_PREFIX, so each has its own secret) and a second replica of the first.
let first: Harness;
let other: Harness;
let replica: FastifyInstance;

beforeAll(async () => {
  first = await createHarness({ API_KEYS: 'acme:acme-key' });
  other = await createHarness({ API_KEYS: 'acme:acme-key' });
  replica = await buildApi({ config: first.config, logger: false });
});

afterAll(async () => {
  await replica?.close();
  await first?.close();
  await other?.close();
});

const headers = { authorization: 'Bearer acme-key' };

async function submitJob(app: FastifyInstance, key: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/v1/jobs', headers, payload: { query: 'q', documents: ['10 a'], idempotency_key: key } });
  expect(response.statusCode).toBe(202);
  return response.json().id;
}

async function submitBatch(app: FastifyInstance, key: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/v1/batches', headers: { ...headers, 'idempotency-key': key }, payload: [{ query: 'q', documents: ['10 a'] }] });
  expect(response.statusCode).toBe(202);
  return response.json().id;
}

describe('when ids are derived from idempotency keys', () => {
  it('should give the same job id for the same tenant and key on every replica of one deployment', async () => {
    const id = await submitJob(first.app, 'order-1');
    expect(id).toMatch(/^idem-[0-9a-f]{40}$/);
    expect(await submitJob(first.app, 'order-1')).toBe(id);
    expect(await submitJob(replica, 'order-1')).toBe(id);
    expect(await first.jobCount()).toBe(1);
  });

  it('should give another deployment (another secret) another id, and none anyone could compute from the key alone', async () => {
    const id = await submitJob(first.app, 'order-2');
    const elsewhere = await submitJob(other.app, 'order-2');
    expect(elsewhere).not.toBe(id);
    // The derivation before the secret: sha256 of tenant and key, computable by anyone.
    const unkeyed = `idem-${createHash('sha256').update('acme').update('\0').update('order-2').digest('hex').slice(0, 40)}`;
    expect([id, elsewhere]).not.toContain(unkeyed);
  });

  it('should treat batch ids alike', async () => {
    const id = await submitBatch(first.app, 'nightly-1');
    expect(await submitBatch(replica, 'nightly-1')).toBe(id);
    expect(await submitBatch(other.app, 'nightly-1')).not.toBe(id);
  });

  it('should keep the secret in Redis under the queue prefix, created once', async () => {
    const redis = new Redis(connection);
    try {
      const [mine, theirs] = await Promise.all([redis.get(`${first.prefix}:idempotency-secret`), redis.get(`${other.prefix}:idempotency-secret`)]);
      expect(mine).toMatch(/^[0-9a-f]{64}$/);
      expect(theirs).toMatch(/^[0-9a-f]{64}$/);
      expect(mine).not.toBe(theirs);
      expect(await redis.ttl(`${first.prefix}:idempotency-secret`)).toBe(-1);
    } finally {
      await redis.quit();
    }
  });
});
