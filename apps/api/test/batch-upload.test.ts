import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from 'bullmq';
import { createHarness, startFixedScoreConsumer } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';
import { ndjson, readResults, waitForBatch } from './helpers/batches.js';

let harness: Harness;
let consumer: Worker;

beforeAll(async () => {
  harness = await createHarness({ MAX_DOCUMENTS: '3' });
  consumer = startFixedScoreConsumer(harness.prefix);
});

afterAll(async () => {
  await consumer.close();
  await harness.close();
});

describe('when a batch is uploaded as a JSON array', () => {
  it('should answer 202 with its urls and serve every line in input order', async () => {
    const lines = [
      { id: 'q-a', query: 'a', documents: ['20 x', '80 y'] },
      { query: 'b', documents: [{ text: '55 z' }, '10 w', '90 v'], top_n: 1, return_documents: true },
      { id: 7, query: 'c', documents: ['40 only'] },
    ];
    const response = await harness.app.inject({ method: 'POST', url: '/v1/batches', payload: lines });
    expect(response.statusCode).toBe(202);
    const accepted = response.json();
    expect(accepted).toEqual({
      id: expect.stringMatching(/^bat-[0-9a-f]{32}$/),
      status: expect.stringMatching(/^(queued|running)$/),
      total: 3,
      status_url: `/v1/batches/${accepted.id}`,
      results_url: `/v1/batches/${accepted.id}/results`,
    });
    const status = await waitForBatch(harness.app, accepted.id);
    expect(status).toMatchObject({ id: accepted.id, status: 'completed', total: 3, completed: 3, failed: 0, cancelled: 0, pairs: { total: 6, completed: 6 } });
    expect(Date.parse(status.finished_at)).toBeGreaterThanOrEqual(Date.parse(status.created_at));
    const results = await readResults(harness.app, accepted.id);
    expect(results).toEqual([
      {
        id: 'q-a',
        index: 0,
        results: [{ index: 1, relevance_score: 0.8 }, { index: 0, relevance_score: 0.2 }],
        meta: expect.objectContaining({ model: 'test-org/tiny-reranker', billed_units: { search_units: 1 }, tokens: { input_tokens: 20 } }),
      },
      { id: 2, index: 1, results: [{ index: 2, relevance_score: 0.9, document: { text: '90 v' } }], meta: expect.any(Object) },
      { id: 7, index: 2, results: [{ index: 0, relevance_score: 0.4 }], meta: expect.any(Object) },
    ]);
  });
});

describe('when NDJSON lines are invalid', () => {
  it('should give each bad line its own error, enqueue only the good ones and finish the batch', async () => {
    const before = await harness.jobCount();
    const body = [
      JSON.stringify({ id: 'good-1', query: 'q', documents: ['30 a'] }),
      '{"query": "q", "documents": [',
      '',
      JSON.stringify({ id: 'no-query', documents: ['10 a'] }),
      JSON.stringify({ id: 'bad-model', query: 'q', documents: ['10 a'], model: 'nope/none' }),
      JSON.stringify({ id: 'too-many', query: 'q', documents: ['1', '2', '3', '4'] }),
      JSON.stringify({ id: 'bad-doc', query: 'q', documents: ['10 a', 5] }),
      JSON.stringify({ id: { not: 'an id' }, query: 'q', documents: ['10 a'] }),
      JSON.stringify({ id: 'wrong-type', query: 'q', documents: ['10 a'], top_n: '2' }),
      '[1, 2]',
      JSON.stringify({ id: 'good-2', query: 'q', documents: ['60 b', '70 c'] }),
    ].join('\r\n');
    const response = await harness.app.inject({ method: 'POST', url: '/v1/batches', headers: { 'content-type': 'application/x-ndjson' }, payload: body });
    expect(response.statusCode).toBe(202);
    const { id, total } = response.json();
    expect(total).toBe(10);
    expect(await harness.jobCount()).toBeLessThanOrEqual(before + 2);
    const status = await waitForBatch(harness.app, id);
    expect(status).toMatchObject({ status: 'completed', total: 10, completed: 2, failed: 8, pairs: { total: 3, completed: 3 } });
    const results = await readResults(harness.app, id);
    expect(results.map((line: any) => [line.id, line.index, line.error?.code ?? 'ok', line.error?.field])).toEqual([
      ['good-1', 0, 'ok', undefined],
      [2, 1, 'invalid_request', undefined],
      ['no-query', 2, 'invalid_request', 'query'],
      ['bad-model', 3, 'unknown_model', 'model'],
      ['too-many', 4, 'invalid_request', 'documents'],
      ['bad-doc', 5, 'invalid_request', 'documents[1]'],
      [8, 6, 'invalid_request', 'id'],
      ['wrong-type', 7, 'invalid_request', 'top_n'],
      [10, 8, 'invalid_request', undefined],
      ['good-2', 9, 'ok', undefined],
    ]);
    expect(results[1].error.message).toMatch(/^line 2 is not valid JSON/);
    expect(results[2].error.message).toBe('query is required');
    expect(results[4].error.message).toBe('4 documents given; the limit is 3 (MAX_DOCUMENTS)');
    expect(results[9].results).toEqual([{ index: 1, relevance_score: 0.7 }, { index: 0, relevance_score: 0.6 }]);
  });
});

describe('when the body is neither an array, NDJSON nor a batch by reference', () => {
  it('should answer 400 naming what is missing and create no batch', async () => {
    const response = await harness.app.inject({ method: 'POST', url: '/v1/batches', payload: { query: 'q', documents: ['a'] } });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'invalid_request', field: 'input_url', message: 'input_url is required' });
    const text = await harness.app.inject({ method: 'POST', url: '/v1/batches', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(text.statusCode).toBe(400);
    expect(text.json().error).toMatchObject({ code: 'invalid_request', field: 'body' });
    expect(await harness.jobCount()).toBe(0);
  });
});

describe('when a batch is unknown', () => {
  it('should answer 404 batch_not_found to status, results and cancel', async () => {
    for (const [method, url] of [['GET', '/v1/batches/bat-0123456789abcdef0123456789abcdef'], ['GET', '/v1/batches/nope/results'], ['DELETE', '/v1/batches/nope']] as const) {
      const response = await harness.app.inject({ method, url });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('batch_not_found');
    }
  });
});

describe('when NDJSON lines are longer than MAX_BODY_BYTES', () => {
  it('should reject that line alone', async () => {
    const small = await createHarness({ MAX_BODY_BYTES: '200' });
    const smallConsumer = startFixedScoreConsumer(small.prefix);
    try {
      const body = ndjson([{ query: 'q', documents: ['10 a'] }, { query: 'q', documents: ['x'.repeat(500)] }, { query: 'q', documents: ['20 b'] }]);
      const { id } = (await small.app.inject({ method: 'POST', url: '/v1/batches', headers: { 'content-type': 'application/x-ndjson' }, payload: body })).json();
      await waitForBatch(small.app, id);
      const results = await readResults(small.app, id);
      expect(results.map((line: any) => line.error?.code ?? 'ok')).toEqual(['ok', 'payload_too_large', 'ok']);
      expect(results[1].error.message).toMatch(/^line 2 has 5\d\d bytes; the limit is 200 \(MAX_BODY_BYTES\)$/);
    } finally {
      await smallConsumer.close();
      await small.close();
    }
  });
});
