import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineQueueNameForModel } from '@rerank-pool/queue';
import { buildApi } from '../src/index.js';
import { MODEL, connection, createHarness, startFixedScoreConsumer } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';
import { ndjson, readResults, waitForBatch } from './helpers/batches.js';

let harness: Harness;

beforeAll(async () => {
  harness = await createHarness({ BATCH_WINDOW_LINES: '50' });
});

afterAll(async () => {
  await harness.close();
});

const lines = Array.from({ length: 400 }, (_, i) => ({ id: `r${i}`, query: 'q', documents: [`${(i % 80) + 10} a`, '5 b'] }));

async function submit(app: Harness['app']): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/v1/batches', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(lines) });
  expect(response.statusCode).toBe(202);
  return response.json().id;
}

function expectResults(results: any[]) {
  expect(results.map((line) => [line.id, line.index, line.results[0].relevance_score])).toEqual(lines.map((line, i) => [line.id, i, ((i % 80) + 10) / 100]));
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

  it('should let workers finish the window while no API runs, then continue the batch from a new API', async () => {
    const first = await buildApi({ config: harness.config, logger: false });
    const id = await submit(first);
    // Its driver queues the first window, then the API goes away.
    while ((await harness.jobCount()) === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await first.close();
    // Workers settle the lines they finish on their own: no API needs to be there.
    const inspector = new Queue(lineQueueNameForModel(MODEL), { connection, prefix: harness.prefix });
    const consumer = startFixedScoreConsumer(harness.prefix);
    try {
      while ((await inspector.getJobCountByTypes('prioritized', 'waiting', 'active')) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      const between = await buildApi({ config: harness.config, logger: false });
      const state = (await between.inject({ method: 'GET', url: `/v1/batches/${id}` })).json();
      await between.close();
      expect(state.completed).toBeGreaterThan(0);
      expect(state.completed).toBeLessThan(400);

      const second = await buildApi({ config: harness.config, logger: false });
      try {
        expect(await waitForBatch(second, id)).toMatchObject({ status: 'completed', completed: 400, failed: 0 });
        expectResults(await readResults(second, id));
      } finally {
        await second.close();
      }
    } finally {
      await consumer.close();
      await inspector.close();
    }
  });

  it('should not depend on the queues event streams: trimmed to nothing mid-run, the batch still finishes exactly', async () => {
    const api = await buildApi({ config: harness.config, logger: false });
    const inspector = new Queue(lineQueueNameForModel(MODEL), { connection, prefix: harness.prefix });
    const redis = new Redis(connection);
    const consumer = startFixedScoreConsumer(harness.prefix);
    try {
      const id = await submit(api);
      let finished: any;
      const trimming = (async () => {
        while (!finished) {
          await redis.xtrim(inspector.keys.events, 'MAXLEN', 0);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      finished = await waitForBatch(api, id);
      await trimming;
      expect(finished).toMatchObject({ status: 'completed', completed: 400, failed: 0, cancelled: 0 });
      expectResults(await readResults(api, id));
    } finally {
      await consumer.close();
      await inspector.close();
      await redis.quit();
      await api.close();
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
      expect(cancelled.json()).toMatchObject({ id, status: 'cancelled', total: 400, cancelled: 400, completed: 0 });
      expect(await waitForBatch(api, id)).toMatchObject({ status: 'cancelled', cancelled: 400 });
      const results = await readResults(api, id);
      expect(results.map((line) => line.error.code)).toEqual(lines.map(() => 'cancelled'));
      expect(results[399]).toMatchObject({ id: 'r399', index: 399 });
    } finally {
      await api.close();
    }
  });
});
