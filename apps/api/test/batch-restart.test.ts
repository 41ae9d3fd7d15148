import { Queue } from 'bullmq';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueNameForModel } from '@rerank-pool/queue';
import { buildApi } from '../src/index.js';
import { MODEL, connection, createHarness, startFixedScoreConsumer } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';
import { ndjson, readResults, waitForBatch } from './helpers/batches.js';

let harness: Harness;

beforeAll(async () => {
  harness = await createHarness();
});

afterAll(async () => {
  await harness.close();
});

const lines = Array.from({ length: 40 }, (_, i) => ({ id: `r${i}`, query: 'q', documents: [`${i + 10} a`, '5 b'] }));

async function submit(app: Harness['app']): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/v1/batches', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(lines) });
  expect(response.statusCode).toBe(202);
  return response.json().id;
}

function expectResults(results: any[]) {
  expect(results.map((line) => [line.id, line.index, line.results[0].relevance_score])).toEqual(lines.map((line, i) => [line.id, i, (i + 10) / 100]));
}

/** Lets the consumer finish every line while no API runs, then stops it. */
async function drainWithoutApi(trimEvents: boolean): Promise<void> {
  const inspector = new Queue(queueNameForModel(MODEL), { connection, prefix: harness.prefix });
  const consumer: Worker = startFixedScoreConsumer(harness.prefix);
  while ((await inspector.getJobCountByTypes('prioritized', 'waiting', 'active')) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  await consumer.close();
  if (trimEvents) {
    const redis = new Redis(connection);
    await redis.xtrim(inspector.keys.events, 'MAXLEN', 0);
    await redis.quit();
  }
  await inspector.close();
}

describe('when the API restarts', () => {
  it('should serve a finished batch from a new instance', async () => {
    const consumer = startFixedScoreConsumer(harness.prefix);
    const id = await submit(harness.app);
    const finished = await waitForBatch(harness.app, id);
    await consumer.close();
    await harness.app.close();

    const restarted = await buildApi({ config: harness.config, logger: false });
    try {
      expect((await restarted.inject({ method: 'GET', url: `/v1/batches/${id}` })).json()).toEqual(finished);
      expectResults(await readResults(restarted, id));
    } finally {
      await restarted.close();
    }
  });

  it.each([
    ['from the saved stream position', false],
    ['by reconciling from the jobs when the events were trimmed', true],
  ])('should account for lines that finished while it was down, %s', async (_, trimEvents) => {
    const first = await buildApi({ config: harness.config, logger: false });
    const id = await submit(first);
    await first.close();
    await drainWithoutApi(trimEvents);

    const second = await buildApi({ config: harness.config, logger: false });
    try {
      expect(await waitForBatch(second, id)).toMatchObject({ status: 'completed', completed: 40, failed: 0 });
      expectResults(await readResults(second, id));
    } finally {
      await second.close();
    }
  });
});

describe('when a queued batch is cancelled over HTTP', () => {
  it('should answer its status with every line cancelled and serve cancelled results', async () => {
    const api = await buildApi({ config: harness.config, logger: false });
    try {
      const id = await submit(api);
      const cancelled = await api.inject({ method: 'DELETE', url: `/v1/batches/${id}` });
      expect(cancelled.statusCode).toBe(200);
      expect(cancelled.json()).toMatchObject({ id, status: 'cancelled', total: 40, cancelled: 40, completed: 0, finished_at: expect.any(String) });
      const results = await readResults(api, id);
      expect(results.map((line) => line.error.code)).toEqual(lines.map(() => 'cancelled'));
      expect(results[39]).toMatchObject({ id: 'r39', index: 39 });
    } finally {
      await api.close();
    }
  });
});
