import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RerankJobData } from '@rerank-pool/contracts';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { MODEL, createHarness, resultWithFixedScores, startFixedScoreConsumer } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';
import { postJson, startLiveService } from './helpers/live-service.js';
import type { LiveService } from './helpers/live-service.js';

/**
 * TEI compatibility of `POST /rerank`, `GET /info` and `GET /health` (TEI's router/src/http/server.rs
 * and types.rs): `truncation_direction`, TEI's error body `{error, error_type}` and statuses.
 */
describe('when TEI requests are checked (a test consumer scores)', () => {
  let harness: Harness;
  let consumer: Worker<RerankJobData>;
  const seen: RerankJobData[] = [];

  beforeAll(async () => {
    harness = await createHarness({ MAX_DOCUMENTS: '3' });
    consumer = startFixedScoreConsumer(harness.prefix, (data) => {
      seen.push(data);
      return resultWithFixedScores(data);
    });
  });
  afterAll(async () => {
    await consumer?.close();
    await harness?.close();
  });

  const rerank = (payload: object) => harness.app.inject({ method: 'POST', url: '/rerank', payload });

  it('should carry truncation_direction to the worker in each of its spellings, Right by default', async () => {
    for (const [direction, expected] of [['Left', 'left'], ['left', 'left'], ['Right', 'right'], ['right', 'right'], [undefined, 'right']] as const) {
      const response = await rerank({ query: 'q', texts: ['10 a'], truncate: true, ...(direction ? { truncation_direction: direction } : {}) });
      expect(response.statusCode).toBe(200);
      expect(seen.at(-1)!.options).toMatchObject({ truncate: true, truncationDirection: expected });
    }
  });

  it.each([
    { name: 'an invalid truncation_direction', body: { query: 'q', texts: ['a'], truncation_direction: 'Sideways' }, status: 422, type: 'Validation', error: /^truncation_direction must be equal to one of the allowed values/ },
    { name: 'empty texts', body: { query: 'q', texts: [] }, status: 400, type: 'Empty', error: '`texts` cannot be empty' },
    { name: 'more texts than MAX_DOCUMENTS', body: { query: 'q', texts: ['a', 'b', 'c', 'd'] }, status: 422, type: 'Validation', error: 'batch size 4 > maximum allowed batch size 3' },
    { name: 'no texts', body: { query: 'q' }, status: 422, type: 'Validation', error: 'texts is required' },
    { name: 'raw_scores not a boolean', body: { query: 'q', texts: ['a'], raw_scores: 'yes' }, status: 422, type: 'Validation', error: 'raw_scores must be boolean' },
  ])("should answer $name with TEI's $status $type and enqueue nothing", async ({ body, status, type, error }) => {
    const before = await harness.jobCount(MODEL);
    const response = await rerank(body);
    expect(response.statusCode).toBe(status);
    const json = response.json();
    expect(Object.keys(json).sort()).toEqual(['error', 'error_type']);
    expect(json.error_type).toBe(type);
    if (typeof error === 'string') expect(json.error).toBe(error);
    else expect(json.error).toMatch(error);
    expect(await harness.jobCount(MODEL)).toBe(before);
  });

  it('should keep our error shape on the Cohere routes', async () => {
    const response = await harness.app.inject({ method: 'POST', url: '/v1/rerank', payload: { query: 'q', documents: [] } });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_request');
  });

  it("should answer GET /health 503 with TEI's body when no worker serves the default model, without an API key", async () => {
    const response = await harness.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ error: 'unhealthy', error_type: 'Unhealthy' });
  });

  it('should answer GET /info with the limits even before a worker reports the model', async () => {
    const response = await harness.app.inject({ method: 'GET', url: '/info' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ model_id: MODEL, model_sha: null, model_type: null, max_input_length: null, max_client_batch_size: 3 });
  });
});

describe('when TEI requests are scored by a real worker (synthetic tiny model, 512 tokens)', () => {
  let service: LiveService;
  const rng = createRng(23);
  const query = 'what is a reranker';
  const tail = syntheticText(rng, 900);
  // Same last 900 words, different beginnings: from the left both keep the same tokens.
  const texts = [`${syntheticText(rng, 300)} ${tail}`, `${syntheticText(rng, 300)} ${tail}`];

  beforeAll(async () => {
    service = await startLiveService({ env: { MAX_DOCUMENTS: '50' } });
  });
  afterAll(async () => {
    await service?.close();
  });

  const scores = async (extra: object): Promise<number[]> => {
    const response = await postJson(service.base, '/rerank', { query, texts, truncate: true, raw_scores: true, ...extra });
    expect(response.status).toBe(200);
    return (response.body as { index: number; score: number }[]).sort((a, b) => a.index - b.index).map((rank) => rank.score);
  };

  it('should score from the end with Left, from the beginning with Right, and Right as before', async () => {
    const left = await scores({ truncation_direction: 'Left' });
    const right = await scores({ truncation_direction: 'Right' });
    const unset = await scores({});
    // Left keeps each text's end: the same tokens, the same score.
    expect(Math.abs(left[0]! - left[1]!)).toBeLessThanOrEqual(1e-4);
    // Right keeps the beginnings, which differ.
    expect(Math.abs(right[0]! - right[1]!)).toBeGreaterThan(1e-4);
    expect(Math.abs(left[0]! - right[0]!)).toBeGreaterThan(1e-4);
    // Right is the default, and the Cohere route (which always cuts from the right) agrees.
    expect(unset).toEqual(right);
    const cohere = await postJson(service.base, '/v1/rerank', { query, documents: texts });
    const cohereLogits = (await scores({})).map((logit) => 1 / (1 + Math.exp(-logit)));
    for (const result of cohere.body.results as { index: number; relevance_score: number }[]) {
      expect(result.relevance_score).toBeCloseTo(cohereLogits[result.index]!, 6);
    }
  });

  it("should answer an over-long text with truncate false in TEI's 422 Validation", async () => {
    const response = await postJson(service.base, '/rerank', { query, texts, truncate: false });
    expect(response.status).toBe(422);
    expect(response.body.error_type).toBe('Validation');
    expect(response.body.error).toMatch(/exceeds the model's limit of 512 tokens/);
  });

  it("should answer GET /info with TEI's fields from the worker's model", async () => {
    const response = await fetch(`${service.base}/info`);
    expect(response.status).toBe(200);
    const info = await response.json();
    expect(info).toEqual({
      model_id: service.modelId,
      model_sha: null,
      model_dtype: 'float32',
      served_model_name: service.modelId,
      model_type: { reranker: { id2label: { '0': 'LABEL_0' }, label2id: { LABEL_0: 0 } } },
      max_concurrent_requests: service.config.maxQueueDepth,
      max_input_length: 512,
      max_batch_tokens: service.config.maxBatchTokens,
      max_batch_requests: null,
      max_client_batch_size: 50,
      auto_truncate: false,
      tokenization_workers: 1,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      sha: null,
      docker_label: null,
    });
  });

  it('should answer GET /health 200 while the worker serves the default model, and 503 once it stops', async () => {
    const up = await fetch(`${service.base}/health`);
    expect(up.status).toBe(200);
    expect(await up.text()).toBe('');
    await service.worker.close();
    const down = await fetch(`${service.base}/health`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ error: 'unhealthy', error_type: 'Unhealthy' });
  });
});
