import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Errors } from '@rerank-pool/contracts';
import type { RerankJobData } from '@rerank-pool/contracts';
import { toJobFailure } from '@rerank-pool/queue';
import { IDLE_MODEL, MODEL, createHarness, resultWithFixedScores, startFixedScoreConsumer } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

let harness: Harness;
let consumer: Worker<RerankJobData>;
const seen: RerankJobData[] = [];

beforeAll(async () => {
  harness = await createHarness();
  consumer = startFixedScoreConsumer(harness.prefix, (data) => {
    seen.push(data);
    // Stands in for the worker's tokenizer check: TEI's truncate:false makes long input an error.
    if (data.options.truncate === false && data.documents.some((document) => document.length > 20)) {
      throw toJobFailure(Errors.inputTooLong('documents[1] has 40 tokens; the model takes at most 16', 'documents[1]'));
    }
    return resultWithFixedScores(data);
  });
});

afterAll(async () => {
  await consumer.close();
  await harness.close();
});

const documents = ['30 thirty', '90 ninety', '10 ten', '70 seventy'];

describe('when a v1 rerank is served (scores fixed per document by a test consumer)', () => {
  it('should return results best first, cut to top_n, with documents and meta', async () => {
    const response = await harness.app.inject({
      method: 'POST',
      url: '/v1/rerank',
      payload: { query: 'q', documents: [documents[0], { text: documents[1] }, documents[2], documents[3]], top_n: 3, return_documents: true },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.results).toEqual([
      { index: 1, relevance_score: 0.9, document: { text: '90 ninety' } },
      { index: 3, relevance_score: 0.7, document: { text: '70 seventy' } },
      { index: 0, relevance_score: 0.3, document: { text: '30 thirty' } },
    ]);
    expect(body.meta).toMatchObject({
      api_version: { version: '1' },
      model: MODEL,
      billed_units: { search_units: 1 },
      tokens: { input_tokens: 40 },
      timings_ms: { queue: 3, inference: 4 },
    });
    expect(body.meta.timings_ms.total).toBeGreaterThan(0);
    expect(typeof body.id).toBe('string');
    const job = seen.at(-1)!;
    expect(job).toMatchObject({ v: 1, model: MODEL, query: 'q', documents, priority: 'interactive', tenant: 'default', options: { truncate: true } });
    expect(job.deadline! - job.createdAt).toBe(harness.config.requestTimeoutMs);
  });
});

describe('when a v2 rerank is served', () => {
  it('should return every result without documents, and map an integer priority', async () => {
    const response = await harness.app.inject({
      method: 'POST',
      url: '/v2/rerank',
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      payload: { model: MODEL, query: 'q', documents, priority: 5, max_tokens_per_doc: 128, timeout_ms: 5000 },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().results.map((result: { index: number }) => result.index)).toEqual([1, 3, 0, 2]);
    expect(response.json().results[0]).toEqual({ index: 1, relevance_score: 0.9 });
    expect(response.json().meta.api_version).toEqual({ version: '2' });
    const job = seen.at(-1)!;
    expect(job).toMatchObject({ priority: 'batch', options: { maxTokensPerDoc: 128 }, trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    expect(job.deadline! - job.createdAt).toBe(5000);
  });
});

describe('when the TEI route is served', () => {
  it('should return scores best first, logits with raw_scores, and texts with return_text', async () => {
    const scored = await harness.app.inject({ method: 'POST', url: '/rerank', payload: { query: 'q', texts: documents } });
    expect(scored.statusCode).toBe(200);
    expect(scored.json()).toEqual([
      { index: 1, score: 0.9 },
      { index: 3, score: 0.7 },
      { index: 0, score: 0.3 },
      { index: 2, score: 0.1 },
    ]);
    const raw = await harness.app.inject({ method: 'POST', url: '/rerank', payload: { query: 'q', texts: documents, raw_scores: true, return_text: true } });
    expect(raw.json()[0]).toEqual({ index: 1, score: Math.log(0.9 / 0.1), text: '90 ninety' });
  });

  it("should answer TEI's 422 Validation when truncate is false and the worker finds an input too long", async () => {
    const response = await harness.app.inject({ method: 'POST', url: '/rerank', payload: { query: 'q', texts: ['10 short', `20 ${'long '.repeat(8)}`] } });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({ error: 'documents[1] has 40 tokens; the model takes at most 16', error_type: 'Validation' });
  });
});

describe('when no worker answers within timeout_ms', () => {
  it('should answer 504 with the job id, and the job can then be polled', async () => {
    const response = await harness.app.inject({ method: 'POST', url: '/v1/rerank', payload: { model: IDLE_MODEL, query: 'q', documents, timeout_ms: 300 } });
    expect(response.statusCode).toBe(504);
    const { error } = response.json();
    expect(error.code).toBe('timeout');
    expect(error.message).toBe(`job ${error.job_id} did not finish within 300 ms; poll GET /v1/jobs/${error.job_id} for its result`);
    const status = await harness.app.inject({ method: 'GET', url: `/v1/jobs/${error.job_id}` });
    expect(status.json()).toMatchObject({ id: error.job_id, status: 'queued' });
  });
});
