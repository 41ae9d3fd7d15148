import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, resultWithFixedScores, startFixedScoreConsumer } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';
import { ndjson, waitForBatch } from './helpers/batches.js';

let harness: Harness;

beforeAll(async () => {
  harness = await createHarness({ MAX_QUEUE_DEPTH: '5' });
});

afterAll(async () => {
  await harness.close();
});

describe('when a large batch is running', () => {
  it('should still admit interactive requests (batch lines are not queue depth) and serve them first', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => ({ id: i, query: `line ${i}`, documents: ['50 a'] }));
    const accepted = await harness.app.inject({ method: 'POST', url: '/v1/batches', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(lines) });
    expect(accepted.statusCode).toBe(202);
    const { id } = accepted.json();
    // A slow consumer: 4 lines at a time, 20 ms each, so the batch takes 1.5 s at least.
    const consumer = startFixedScoreConsumer(harness.prefix, async (data) => {
      await sleep(20);
      return resultWithFixedScores(data);
    });
    try {
      await sleep(100);
      const online = await harness.app.inject({ method: 'POST', url: '/v1/rerank', payload: { query: 'now', documents: ['80 x', '20 y'] } });
      const during = (await harness.app.inject({ method: 'GET', url: `/v1/batches/${id}` })).json();
      expect(online.statusCode).toBe(200);
      expect(online.json().results[0]).toEqual({ index: 0, relevance_score: 0.8 });
      expect(during.status).toBe('running');
      expect(during.completed).toBeLessThan(300 - 100);
      expect(await waitForBatch(harness.app, id, {}, 30_000)).toMatchObject({ status: 'completed', completed: 300 });
    } finally {
      await consumer.close();
    }
  });
});
