import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from 'bullmq';
import { createHarness, startFixedScoreConsumer } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';
import { ndjson, readResults, waitForBatch } from './helpers/batches.js';

let harness: Harness;
let consumer: Worker;

// MAX_DOCUMENTS 3: a body may hold 64 x 3 + 1024 = 1216 values.
beforeAll(async () => {
  harness = await createHarness({ MAX_DOCUMENTS: '3' });
  consumer = startFixedScoreConsumer(harness.prefix);
});

afterAll(async () => {
  await consumer.close();
  await harness.close();
});

const nested = (levels: number, inner = '0') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;

async function post(url: string, payload: string | object, contentType = 'application/json') {
  return harness.app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload });
}

describe('when a body nests deeper than MAX_JSON_DEPTH', () => {
  it('should answer 400 naming the limit and enqueue nothing', async () => {
    for (const url of ['/v1/rerank', '/v2/rerank', '/v1/jobs', '/v1/batches']) {
      const response = await post(url, `{"query":"q","documents":["a"],"x":${nested(20)}}`);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        error: { code: 'invalid_request', field: 'body', message: 'the body has nesting deeper than MAX_JSON_DEPTH (16)' },
      });
    }
    // The TEI route says the same in TEI's body and status.
    const tei = await post('/rerank', `{"query":"q","texts":["a"],"x":${nested(20)}}`);
    expect(tei.statusCode).toBe(422);
    expect(tei.json()).toEqual({ error: 'the body has nesting deeper than MAX_JSON_DEPTH (16)', error_type: 'Validation' });
    expect(await harness.jobCount()).toBe(0);
  });

  it('should accept a body exactly MAX_JSON_DEPTH deep (metadata nested in an object document)', async () => {
    // body (1) > documents (2) > document (3) > meta: 13 more levels = 16
    const response = await post('/v1/rerank', `{"query":"q","documents":[{"text":"70 a","meta":${nested(13)}},"20 b"]}`);
    expect(response.statusCode).toBe(200);
    expect(response.json().results.map((result: { index: number }) => result.index)).toEqual([0, 1]);
  });
});

describe('when a body holds more values than any request needs', () => {
  it('should answer 400 before parsing it', async () => {
    const response = await post('/v1/rerank', `{"query":"q","documents":["a"],"x":[${Array(1300).fill(0).join(',')}]}`);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toEqual({
      code: 'invalid_request',
      field: 'body',
      message: 'the body holds more than 1216 JSON values (keys count too): 64 per document of MAX_DOCUMENTS, plus 1024',
    });
  });
});

describe('when a body has a key that could poison prototypes', () => {
  it.each([
    ['__proto__', '{"query":"q","documents":["a"],"__proto__":{"isAdmin":true}}', '__proto__'],
    ['an escaped __proto__', '{"query":"q","documents":["a"],"\\u005f_proto__":{"isAdmin":true}}', '__proto__'],
    ['__proto__ in an object document', '{"query":"q","documents":[{"text":"a","__proto__":{"x":1}}]}', 'documents[0].__proto__'],
    ['constructor.prototype', '{"query":"q","documents":["a"],"constructor":{"prototype":{"x":1}}}', 'constructor.prototype'],
  ])('should answer 400 naming %s', async (_name, body, where) => {
    const response = await post('/v1/rerank', body);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toEqual({
      code: 'invalid_request',
      field: 'body',
      message: `the body has a key ${where}, refused because it could poison object prototypes`,
    });
  });
});

describe('when a body has a field its route does not know', () => {
  it.each([
    ['/v1/rerank', { query: 'q', documents: ['a'], top_k: 2 }, 'top_k'],
    ['/v2/rerank', { query: 'q', documents: ['a'], rank_fields: ['text'] }, 'rank_fields'],
    ['/v1/jobs', { query: 'q', documents: ['a'], callback: 'http://x' }, 'callback'],
    ['/v1/batches', { input_url: 'file:///tmp/in.jsonl', output: 'x' }, 'output'],
  ])('should answer 400 on %s naming the field', async (url, body, field) => {
    const response = await post(url, body);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toEqual({ code: 'invalid_request', field, message: `${field} is not a known field` });
  });

  it('should keep the extra keys of object documents and return them as sent (Cohere v1 documents carry metadata)', async () => {
    const response = await post('/v1/rerank', { query: 'q', documents: [{ text: '30 a', title: 'A', tags: ['x'] }, '60 b'], return_documents: true });
    expect(response.statusCode).toBe(200);
    expect(response.json().results).toEqual([
      { index: 1, relevance_score: 0.6, document: { text: '60 b' } },
      { index: 0, relevance_score: 0.3, document: { text: '30 a', title: 'A', tags: ['x'] } },
    ]);
  });

  it('should ignore unknown fields on the TEI route, as TEI does', async () => {
    const response = await post('/rerank', { query: 'q', texts: ['40 a', '90 b'], truncation_direction: 'Right' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([
      { index: 1, score: 0.9 },
      { index: 0, score: 0.4 },
    ]);
  });
});

describe('when batch lines break the limits', () => {
  it('should give an NDJSON line over a limit its own error and run the others', async () => {
    const lines = [
      JSON.stringify({ id: 'ok-1', query: 'q', documents: ['30 a'] }),
      `{"id":"deep","query":"q","documents":["a"],"x":${nested(20)}}`,
      '{"id":"proto","query":"q","documents":["a"],"__proto__":{}}',
      JSON.stringify({ id: 'unknown', query: 'q', documents: ['a'], top_k: 1 }),
      JSON.stringify({ id: 'ok-2', query: 'q', documents: ['50 b'] }),
    ].join('\n');
    const accepted = await post('/v1/batches', `${lines}\n`, 'application/x-ndjson');
    expect(accepted.statusCode).toBe(202);
    await waitForBatch(harness.app, accepted.json().id);
    const results = await readResults(harness.app, accepted.json().id);
    expect(results.map((line) => [line.id, line.error?.message ?? 'ok'])).toEqual([
      ['ok-1', 'ok'],
      [2, 'line 2 has nesting deeper than MAX_JSON_DEPTH (16)'],
      [3, 'line 3 has a key __proto__, refused because it could poison object prototypes'],
      ['unknown', 'top_k is not a known field'],
      ['ok-2', 'ok'],
    ]);
  });

  it('should read a JSON array element by element, each held to the limits of a line', async () => {
    const good = await post('/v1/batches', `[ {"id":"a","query":"q","documents":["30 a"]} ,\n {"id":"b","query":"q","documents":[{"text":"60 b","meta":${nested(13)}}]} ]`);
    expect(good.statusCode).toBe(202);
    expect(good.json().total).toBe(2);
    await waitForBatch(harness.app, good.json().id);
    expect((await readResults(harness.app, good.json().id)).map((line) => line.results?.[0]?.relevance_score)).toEqual([0.3, 0.6]);

    // Depth is refused as the array arrives (the array's own level not counted), values element by element.
    const deep = await post('/v1/batches', `[{"query":"q","documents":["a"]},{"query":"q","documents":["a"],"x":${nested(16)}}]`);
    expect(deep.statusCode).toBe(400);
    expect(deep.json().error).toEqual({ code: 'invalid_request', field: 'body', message: 'the body has nesting deeper than MAX_JSON_DEPTH (16)' });
    const wide = await post('/v1/batches', `[{"query":"q","documents":["a"]},{"query":"q","documents":["a"],"x":[${Array(1300).fill(0).join(',')}]}]`);
    expect(wide.json().error).toEqual({
      code: 'invalid_request',
      field: 'body',
      message: 'element 2 of the batch array holds more than 1216 JSON values (keys count too): 64 per document of MAX_DOCUMENTS, plus 1024',
    });

    const proto = await post('/v1/batches', '[{"query":"q","documents":["a"],"__proto__":{}}]');
    expect(proto.json().error.message).toBe('element 1 of the batch array has a key __proto__, refused because it could poison object prototypes');

    const broken = await post('/v1/batches', '[{"query":"q","documents":["a"]},{"query":}]');
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.message).toMatch(/^element 2 of the batch array is not valid JSON: /);
    const unclosed = await post('/v1/batches', '[{"query":"q","documents":["a"]}');
    expect(unclosed.json().error).toEqual({ code: 'invalid_request', field: 'body', message: 'the body is not valid JSON: the array is not closed' });
  });
});

describe('when a body is empty or not JSON', () => {
  it('should answer 400 saying so', async () => {
    const empty = await post('/v1/rerank', '');
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error).toEqual({ code: 'invalid_request', field: 'body', message: 'the body is empty; content-type application/json needs a JSON value' });
    const invalid = await post('/v1/rerank', '{"query": q}');
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error).toMatchObject({ code: 'invalid_request', field: 'body', message: expect.stringMatching(/^the body is not valid JSON: Unexpected token/) });
  });
});
