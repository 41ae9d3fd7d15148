import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, sampleSum } from '@rerank-pool/telemetry';
import type { MetricSample } from '@rerank-pool/telemetry';
import { createHarness, IDLE_MODEL, MODEL, startFixedScoreConsumer } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

const auth = { authorization: 'Bearer acme-key' };
let harness: Harness;
let consumer: Worker;

beforeAll(async () => {
  harness = await createHarness({ API_KEYS: 'acme:acme-key' });
  consumer = startFixedScoreConsumer(harness.prefix);
});

afterAll(async () => {
  await consumer.close();
  await harness.close();
});

async function scrape(): Promise<MetricSample[]> {
  // No Authorization header: Prometheus scrapes without an API key.
  const response = await harness.app.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(response.body);
}

const count = (samples: MetricSample[], name: string, labels: Record<string, string>) => sampleSum(samples, name, labels) ?? 0;

describe('when /metrics is scraped on the API port', () => {
  it('should expose the request, error and queue series and process metrics', async () => {
    const text = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const name of ['rerank_request_duration_seconds', 'rerank_errors_total', 'rerank_queue_jobs', 'rerank_queue_pending_jobs', 'rerank_queue_pending_pairs', 'process_resident_memory_bytes']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('should count requests by route pattern and status, and errors by the code the client got', async () => {
    const before = await scrape();
    expect((await harness.app.inject({ method: 'POST', url: '/v1/rerank', headers: auth, payload: { query: 'q', documents: ['70 a', '20 b'] } })).statusCode).toBe(200);
    expect((await harness.app.inject({ method: 'POST', url: '/v1/rerank', headers: auth, payload: { query: 'q' } })).statusCode).toBe(400);
    expect((await harness.app.inject({ method: 'GET', url: '/v1/jobs/some-unknown-id', headers: auth })).statusCode).toBe(404);
    expect((await harness.app.inject({ method: 'GET', url: '/no/such/route/42', headers: auth })).statusCode).toBe(404);
    expect((await harness.app.inject({ method: 'POST', url: '/v1/rerank', payload: { query: 'q', documents: ['1'] } })).statusCode).toBe(401);
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string>) => count(after, name, labels) - count(before, name, labels);
    const requests = 'rerank_request_duration_seconds_count';
    expect(delta(requests, { method: 'POST', route: '/v1/rerank', status_code: '200' })).toBe(1);
    expect(delta(requests, { method: 'POST', route: '/v1/rerank', status_code: '400' })).toBe(1);
    expect(delta(requests, { method: 'POST', route: '/v1/rerank', status_code: '401' })).toBe(1);
    expect(delta(requests, { route: '/v1/jobs/:id', status_code: '404' })).toBe(1);
    // Unknown paths share one series instead of minting one per URL.
    expect(delta(requests, { route: 'unmatched', status_code: '404' })).toBe(1);
    expect(after.some((sample) => sample.labels.route?.includes('/no/such'))).toBe(false);
    expect(delta('rerank_errors_total', { code: 'invalid_request' })).toBe(1);
    expect(delta('rerank_errors_total', { code: 'job_not_found' })).toBe(1);
    expect(delta('rerank_errors_total', { code: 'not_found' })).toBe(1);
    expect(delta('rerank_errors_total', { code: 'unauthorized' })).toBe(1);
  });

  it('should read queue depth by state and priority from Redis at each scrape', async () => {
    const submit = (priority: string, documents = ['50 a']) =>
      harness.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { model: IDLE_MODEL, query: 'q', documents, priority } });
    const accepted = await Promise.all([submit('batch'), submit('batch'), submit('batch', ['1 a', '2 b', '3 c']), submit('interactive', ['4 d', '5 e'])]);
    for (const response of accepted) expect(response.statusCode).toBe(202);

    let samples = await scrape();
    expect(count(samples, 'rerank_queue_jobs', { model: IDLE_MODEL, state: 'prioritized' })).toBe(4);
    expect(count(samples, 'rerank_queue_jobs', { model: IDLE_MODEL, state: 'active' })).toBe(0);
    expect(count(samples, 'rerank_queue_pending_jobs', { model: IDLE_MODEL, priority: 'interactive' })).toBe(1);
    expect(count(samples, 'rerank_queue_pending_jobs', { model: IDLE_MODEL, priority: 'batch' })).toBe(3);
    expect(sampleSum(samples, 'rerank_queue_pending_jobs', { model: IDLE_MODEL, priority: 'batch_line' })).toBe(0);
    // Work, not requests: the documents of the jobs not yet started.
    expect(count(samples, 'rerank_queue_pending_pairs', { model: IDLE_MODEL, priority: 'interactive' })).toBe(2);
    expect(count(samples, 'rerank_queue_pending_pairs', { model: IDLE_MODEL, priority: 'batch' })).toBe(5);
    expect(sampleSum(samples, 'rerank_queue_pending_pairs', { model: IDLE_MODEL, priority: 'batch_line' })).toBe(0);
    // The served model's queue is drained by its consumer: its series exist, at zero.
    expect(sampleSum(samples, 'rerank_queue_jobs', { model: MODEL, state: 'prioritized' })).toBe(0);

    for (const response of accepted) {
      expect((await harness.app.inject({ method: 'DELETE', url: `/v1/jobs/${response.json().id}`, headers: auth })).statusCode).toBe(200);
    }
    samples = await scrape();
    expect(count(samples, 'rerank_queue_jobs', { model: IDLE_MODEL, state: 'prioritized' })).toBe(0);
    expect(sampleSum(samples, 'rerank_queue_pending_pairs', { model: IDLE_MODEL })).toBe(0);
  });
});
