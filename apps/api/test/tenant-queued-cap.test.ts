import { Queue, Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RerankJobData } from '@rerank-pool/contracts';
import { pickUpJob, queueNameForModel } from '@rerank-pool/queue';
import { buildApi } from '../src/index.js';
import { connection, createHarness, IDLE_MODEL, MODEL, resultWithFixedScores } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

const CAP = 2;
const auth = (tenant: string) => ({ authorization: `Bearer ${tenant}-key` });
const TENANTS = ['alpha', 'beta', 'gamma', 'delta'];
const body = { query: 'q', documents: ['10 a', '70 b'] };
/** Async jobs for a model no consumer serves: they stay queued, holding their tenant's places. */
const idleJob = { ...body, model: IDLE_MODEL };

let harness: Harness;
let consumer: Worker<RerankJobData>;
let redis: Redis;

beforeAll(async () => {
  harness = await createHarness({ API_KEYS: TENANTS.map((tenant) => `${tenant}:${tenant}-key`).join(','), TENANT_MAX_QUEUED_JOBS: String(CAP) });
  redis = new Redis(connection);
  // Picks jobs up as the real worker does (pickUpJob), so started jobs leave their tenant's count.
  consumer = new Worker<RerankJobData>(
    queueNameForModel(MODEL),
    async (job) => {
      await pickUpJob(redis, harness.prefix, job);
      return resultWithFixedScores(job.data);
    },
    { connection, prefix: harness.prefix, concurrency: 4 },
  );
});

afterAll(async () => {
  await consumer?.close();
  redis?.disconnect();
  await harness?.close();
});

const post = (app: FastifyInstance, tenant: string, url: string, payload: object) => app.inject({ method: 'POST', url, payload, headers: auth(tenant) });

describe('when a tenant has TENANT_MAX_QUEUED_JOBS jobs not yet started', () => {
  it('should answer that tenant 429 with Retry-After on that model, and serve its other models and the other tenants', async () => {
    for (let i = 0; i < CAP; i++) expect((await post(harness.app, 'alpha', '/v1/jobs', idleJob)).statusCode).toBe(202);

    const expected = { code: 'overloaded', message: `tenant alpha has ${CAP} jobs not yet started (TENANT_MAX_QUEUED_JOBS ${CAP}); retry later` };
    const overCap = await post(harness.app, 'alpha', '/v1/jobs', idleJob);
    expect(overCap.statusCode).toBe(429);
    expect(overCap.headers['retry-after']).toBe('1');
    expect(overCap.json().error).toEqual(expected);
    // The cap is per model, as MAX_QUEUE_DEPTH is: the tenant's requests for the served model go on.
    const sync = await post(harness.app, 'alpha', '/v1/rerank', body);
    expect(sync.statusCode).toBe(200);
    expect((await post(harness.app, 'alpha', '/rerank', { query: 'q', texts: ['10 a'] })).statusCode).toBe(200);

    // Another tenant: more requests than the cap, each answered (its jobs start and leave its count).
    for (let i = 0; i < CAP * 3; i++) {
      const response = await post(harness.app, 'beta', '/v2/rerank', body);
      expect(response.statusCode).toBe(200);
      expect(response.json().results[0]).toMatchObject({ index: 1, relevance_score: 0.7 });
    }
    for (let i = 0; i < CAP; i++) expect((await post(harness.app, 'beta', '/v1/jobs', idleJob)).statusCode).toBe(202);
    expect(await harness.jobCount(IDLE_MODEL)).toBe(2 * CAP);
  });

  it('should give a place back when one of its queued jobs is cancelled', async () => {
    expect((await post(harness.app, 'alpha', '/v1/jobs', idleJob)).statusCode).toBe(429);
    const queued = await post(harness.app, 'alpha', '/v1/jobs', { ...idleJob, idempotency_key: 'first' });
    // The idempotency key names no job yet, and the cap holds: refused, not created.
    expect(queued.statusCode).toBe(429);
    const id = await queuedJobIdOf('alpha');
    expect((await harness.app.inject({ method: 'DELETE', url: `/v1/jobs/${id}`, headers: auth('alpha') })).statusCode).toBe(200);
    expect((await post(harness.app, 'alpha', '/v1/jobs', idleJob)).statusCode).toBe(202);
    expect((await post(harness.app, 'alpha', '/v1/jobs', idleJob)).statusCode).toBe(429);
  });

  it('should drop places whose job never came (an API that died between reserving and adding)', async () => {
    const set = `${harness.prefix}:${queueNameForModel(IDLE_MODEL)}:tenants:gamma:queued`;
    const longAgo = Date.now() - 60_000;
    for (let i = 0; i < CAP; i++) await redis.zadd(set, longAgo, `${harness.prefix}:${queueNameForModel(IDLE_MODEL)}:never-added-${i}`);
    expect((await post(harness.app, 'gamma', '/v1/jobs', idleJob)).statusCode).toBe(202);
    expect(await redis.zcard(set)).toBe(1);
  });

  it('should hold across API replicas: concurrent requests to two instances admit exactly the cap', async () => {
    const second = await buildApi({ config: harness.config, logger: false });
    try {
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) => post(i % 2 === 0 ? harness.app : second, 'delta', '/v1/jobs', idleJob)),
      );
      const statuses = responses.map((response) => response.statusCode).sort();
      expect(statuses).toEqual([...Array(CAP).fill(202), ...Array(10 - CAP).fill(429)]);
    } finally {
      await second.close();
    }
  });
});

/** The id of one of `tenant`'s queued jobs, read from the model's queue. */
async function queuedJobIdOf(tenant: string): Promise<string> {
  const queue = new Queue(queueNameForModel(IDLE_MODEL), { connection, prefix: harness.prefix });
  try {
    const jobs = await queue.getJobs(['waiting', 'prioritized']);
    const job = jobs.find((candidate) => (candidate.data as RerankJobData).tenant === tenant);
    if (!job?.id) throw new Error(`no queued job of ${tenant}`);
    return job.id;
  } finally {
    await queue.close();
  }
}
