import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, startFixedScoreConsumer } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

let harness: Harness;

beforeAll(async () => {
  harness = await createHarness();
});

afterAll(async () => {
  await harness.close();
});

const body = { query: 'q', documents: ['30 a', '90 b', '10 c'], top_n: 2, return_documents: true };

describe('when a job is submitted, polled and completed', () => {
  it('should answer 202, report queued, then completed with ranked results', async () => {
    const accepted = await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: body });
    expect(accepted.statusCode).toBe(202);
    const { id, status, status_url } = accepted.json();
    expect(status).toBe('queued');
    expect(status_url).toBe(`/v1/jobs/${id}`);
    const queued = await harness.app.inject({ method: 'GET', url: status_url });
    expect(queued.json()).toMatchObject({ id, status: 'queued', progress: 0 });

    const consumer = startFixedScoreConsumer(harness.prefix);
    let done: { status: string; result?: unknown; finished_at?: string } = { status: 'queued' };
    while (done.status !== 'completed') {
      await new Promise((resolve) => setTimeout(resolve, 20));
      done = (await harness.app.inject({ method: 'GET', url: status_url })).json();
    }
    await consumer.close();
    expect(done).toMatchObject({
      status: 'completed',
      progress: 1,
      result: {
        results: [
          { index: 1, relevance_score: 0.9, document: { text: '90 b' } },
          { index: 0, relevance_score: 0.3, document: { text: '30 a' } },
        ],
        meta: { billed_units: { search_units: 1 }, tokens: { input_tokens: 30 } },
      },
    });
    expect(Date.parse(done.finished_at!)).toBeGreaterThan(0);

    const cancel = await harness.app.inject({ method: 'DELETE', url: status_url });
    expect(cancel.statusCode).toBe(409);
    expect(cancel.json().error).toMatchObject({ code: 'job_not_cancellable', message: `job ${id} is completed; only queued jobs can be cancelled` });
  });
});

describe('when a job is submitted twice with one idempotency key', () => {
  it('should return the same job id and hold one job', async () => {
    const before = await harness.jobCount();
    const payload = { ...body, idempotency_key: 'nightly-2024-06-01' };
    const first = (await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload })).json();
    const second = (await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload })).json();
    expect(second.id).toBe(first.id);
    expect(await harness.jobCount()).toBe(before + 1);
  });
});

describe('when a queued job is cancelled', () => {
  it('should report cancelled and never be computed', async () => {
    const { id } = (await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: body })).json();
    const cancelled = await harness.app.inject({ method: 'DELETE', url: `/v1/jobs/${id}` });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ id, status: 'cancelled' });
    const status = await harness.app.inject({ method: 'GET', url: `/v1/jobs/${id}` });
    expect(status.json()).toMatchObject({ id, status: 'cancelled' });
  });
});
