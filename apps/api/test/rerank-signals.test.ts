import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { parseExposition, sampleSum } from '@rerank-pool/telemetry';
import type { RerankMetrics } from '@rerank-pool/telemetry';
import { ndjson, readResults, waitForBatch } from './helpers/batches.js';
import { postJson, startLiveService } from './helpers/live-service.js';
import type { LiveService } from './helpers/live-service.js';

/**
 * `return_signals` end to end with a real worker (synthetic tiny model, 512-token window): the
 * signals in meta agree with the results they describe, appear only when asked, and every
 * finished rerank of 2 or more documents is counted once in /metrics: by the API for synchronous
 * requests, by the worker for async jobs and batch lines.
 */
const rng = createRng(12);
const query = 'which documents matter';
// Two documents far past the window (truncated), ten that fit.
const documents = Array.from({ length: 12 }, (_, index) => syntheticText(rng, index % 6 === 1 ? 1200 : 20 + index));
const LONG_DOCUMENTS = 2;

const SIGNALS = ['rerank_signal_kendall_tau', 'rerank_signal_top10_kept_ratio', 'rerank_signal_truncated_ratio', 'rerank_signal_score_spread'];

let service: LiveService;

beforeAll(async () => {
  service = await startLiveService();
});

afterAll(() => service?.close());

type Result = { index: number; relevance_score: number };

/** Signal observations per histogram so far in a registry (its `_count` for the served model). */
async function counts(metrics: RerankMetrics): Promise<number[]> {
  const samples = parseExposition(await metrics.metrics());
  return SIGNALS.map((name) => sampleSum(samples, `${name}_count`, { model: service.modelId }) ?? 0);
}

/** Kendall tau of the results' order against the input order, by its definition over every pair. */
function tauOf(results: Result[]): number {
  const rank = new Map(results.map((result, position) => [result.index, position]));
  let sum = 0;
  for (let i = 0; i < results.length; i++) for (let j = i + 1; j < results.length; j++) sum += rank.get(i)! < rank.get(j)! ? 1 : -1;
  return sum / ((results.length * (results.length - 1)) / 2);
}

describe('when a synchronous rerank asks for return_signals', () => {
  it('should describe the returned results in meta.signals and count them once, in the API', async () => {
    const apiBefore = await counts(service.apiMetrics);
    const workerBefore = await counts(service.workerMetrics);
    const response = await postJson(service.base, '/v1/rerank', { query, documents, return_signals: true });
    expect(response.status).toBe(200);
    const results = response.body.results as Result[];
    const signals = response.body.meta.signals;
    const topInput = results.slice(0, 10).filter((result) => result.index < 10).length;
    const scores = results.map((result) => result.relevance_score);
    const mean = scores.reduce((sum, score) => sum + score, 0) / scores.length;
    expect(signals).toEqual({
      documents: documents.length,
      kendall_tau: expect.closeTo(tauOf(results), 12),
      top10_kept: topInput,
      top10_kept_fraction: topInput / 10,
      truncated_documents: LONG_DOCUMENTS,
      truncated_fraction: LONG_DOCUMENTS / documents.length,
      score_spread: expect.closeTo(scores[0]! - scores.at(-1)!, 12),
      score_stdev: expect.closeTo(Math.sqrt(scores.reduce((sum, score) => sum + (score - mean) ** 2, 0) / scores.length), 12),
    });
    // Worth asserting at all only if the model moved something: the synthetic model's scores are arbitrary.
    expect(signals.kendall_tau).toBeLessThan(1);

    expect(await counts(service.apiMetrics)).toEqual(apiBefore.map((count) => count + 1));
    expect(await counts(service.workerMetrics)).toEqual(workerBefore);
  });

  it('should compute them over every document whatever top_n returns, on v2 too', async () => {
    const full = await postJson(service.base, '/v1/rerank', { query, documents, return_signals: true });
    const cut = await postJson(service.base, '/v2/rerank', { query, documents: documents as string[], top_n: 2, return_signals: true });
    expect(cut.status).toBe(200);
    expect(cut.body.results).toHaveLength(2);
    expect(cut.body.meta.signals).toEqual(full.body.meta.signals);
  });

  it('should leave meta.signals out unless asked, still count the request, and skip one document', async () => {
    const before = await counts(service.apiMetrics);
    const plain = await postJson(service.base, '/v2/rerank', { query, documents });
    expect(plain.status).toBe(200);
    expect(plain.body.meta).not.toHaveProperty('signals');
    const single = await postJson(service.base, '/v1/rerank', { query, documents: [documents[0]], return_signals: true });
    expect(single.body.meta.signals).toMatchObject({ documents: 1, kendall_tau: null, top10_kept: 1, score_spread: 0 });
    const tei = await postJson(service.base, '/rerank', { query, texts: documents.slice(2, 5) });
    expect(tei.status).toBe(200);
    // The v2 request and the TEI one; the single document has no order to count.
    expect(await counts(service.apiMetrics)).toEqual(before.map((count) => count + 2));
  });

  it('should refuse a return_signals that is not a boolean, naming it', async () => {
    const response = await postJson(service.base, '/v1/rerank', { query, documents, return_signals: 'yes' });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toContain('return_signals');
  });
});

describe('when async jobs and batch lines ask for return_signals', () => {
  it('should put the signals in a stored job and count it once, in the worker', async () => {
    const apiBefore = await counts(service.apiMetrics);
    const workerBefore = await counts(service.workerMetrics);
    const accepted = await postJson(service.base, '/v1/jobs', { query, documents, return_signals: true, top_n: 3 });
    expect(accepted.status).toBe(202);
    let status: any;
    for (let polls = 0; polls < 400; polls++) {
      status = await (await fetch(`${service.base}${accepted.body.status_url}`)).json();
      if (status.status === 'completed' || status.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(status.status).toBe('completed');
    expect(status.result.results).toHaveLength(3);
    const sync = await postJson(service.base, '/v1/rerank', { query, documents, return_signals: true });
    // The same documents and model: the same scores, so the same signals.
    expect(status.result.meta.signals).toEqual(sync.body.meta.signals);
    expect(await counts(service.workerMetrics)).toEqual(workerBefore.map((count) => count + 1));
    // Only the synchronous request is the API's.
    expect(await counts(service.apiMetrics)).toEqual(apiBefore.map((count) => count + 1));
  });

  it('should put them in the results line of a batch line that asks, and count every line in the worker', async () => {
    const workerBefore = await counts(service.workerMetrics);
    const upload = await service.app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: ndjson([
        { id: 'with', query, documents, return_signals: true },
        { id: 'without', query, documents: documents.slice(0, 4) },
      ]),
    });
    expect(upload.statusCode).toBe(202);
    const batch = upload.json();
    expect((await waitForBatch(service.app, batch.id)).completed).toBe(2);
    const [withSignals, withoutSignals] = await readResults(service.app, batch.id);
    expect(withSignals.meta.signals).toMatchObject({ documents: documents.length, truncated_documents: LONG_DOCUMENTS });
    expect(withoutSignals.meta).not.toHaveProperty('signals');
    expect(await counts(service.workerMetrics)).toEqual(workerBefore.map((count) => count + 2));
  });
});
