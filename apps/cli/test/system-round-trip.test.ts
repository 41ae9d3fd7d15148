import { createServer, type Server } from 'node:http';
import { CohereClient, CohereClientV2 } from 'cohere-ai';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchStats } from '@rerank-pool/batcher';
import type { InferencePool } from '@rerank-pool/model-runtime';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { WEBHOOK_HEADERS } from '@rerank-pool/queue';
import type { RerankWorker } from '@rerank-pool/worker';
import { startInProcessService, type InProcessService } from './support/in-process-service.js';

const SECRET = `whsec_${Buffer.from('rerank-pool system round-trip test').toString('base64')}`;

/** The whole service in this process, as `rerank-pool dev` runs it: API + real worker + real model. */
describe('when clients call the API served by a real worker', () => {
  const rng = createRng(31);
  const modelId = 'synthetic-tiny';
  let service: InProcessService;
  let worker: RerankWorker;
  let local: InferencePool;
  let base: string;
  const batches: BatchStats[] = [];

  beforeAll(async () => {
    service = await startInProcessService(
      // The webhook receiver below listens on loopback: allowed explicitly, as an operator would.
      { POOL_THREADS: '2', WORKER_CONCURRENCY: '16', MAX_BATCH_WAIT_MS: '10', WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' },
      21,
    );
    ({ worker, local, base } = service);
    worker.onBatch((_, stats) => batches.push(stats));
  });

  afterAll(() => service?.close());

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('should answer the official Cohere v2 and v1 SDKs with the real scores, sorted and cut to top_n', async () => {
    const documents = Array.from({ length: 12 }, () => syntheticText(rng, 5 + Math.floor(rng() * 60)));
    const expected = await local.score('which passage ranks first', documents);
    const v2 = await new CohereClientV2({ token: 'unused', environment: base }).rerank({ model: modelId, query: 'which passage ranks first', documents, topN: 5 });
    const order = expected.scores.map((s, i) => ({ s, i })).sort((a, b) => b.s - a.s);
    expect(v2.results.map((r) => r.index)).toEqual(order.slice(0, 5).map((o) => o.i));
    for (const r of v2.results) expect(Math.abs(r.relevanceScore - expected.scores[r.index]!)).toBeLessThanOrEqual(1e-4);

    const v1 = await new CohereClient({ token: 'unused', environment: base }).rerank({
      query: 'which passage ranks first',
      documents: documents.map((text) => ({ text })),
      returnDocuments: true,
    });
    expect(v1.results).toHaveLength(12);
    for (const r of v1.results) {
      expect(r.document?.text).toBe(documents[r.index]);
      expect(Math.abs(r.relevanceScore - expected.scores[r.index]!)).toBeLessThanOrEqual(1e-4);
    }
    expect(v1.meta?.billedUnits?.searchUnits).toBe(1);
  });

  it('should give each of many concurrent requests exactly its own scores, batched across requests', async () => {
    batches.length = 0;
    const requests = Array.from({ length: 40 }, (_, j) => ({
      query: `query ${j} ${syntheticText(rng, 3)}`,
      documents: Array.from({ length: 3 + Math.floor(rng() * 15) }, () => syntheticText(rng, 2 + Math.floor(rng() * 80))),
    }));
    const responses = await Promise.all(requests.map((r) => post('/v2/rerank', { ...r, model: modelId })));
    for (const [j, response] of responses.entries()) {
      expect(response.status).toBe(200);
      const expected = await local.score(requests[j]!.query, requests[j]!.documents);
      expect(response.body.results).toHaveLength(requests[j]!.documents.length);
      for (const r of response.body.results) expect(Math.abs(r.relevance_score - expected.scores[r.index]!)).toBeLessThanOrEqual(1e-4);
      expect(response.body.meta.tokens.input_tokens).toBe(expected.inputTokens);
    }
    expect(Math.max(...batches.map((b) => b.submissions))).toBeGreaterThan(1);
  });

  it('should serve the TEI route with raw scores, and refuse over-long input when truncate is false', async () => {
    const texts = ['a first passage', 'a second, somewhat longer passage about ranking'];
    const expected = await local.score('tei query', texts);
    const raw = await post('/rerank', { query: 'tei query', texts, raw_scores: true, return_text: true });
    expect(raw.status).toBe(200);
    for (const r of raw.body) {
      expect(Math.abs(r.score - expected.logits[r.index]!)).toBeLessThanOrEqual(1e-4);
      expect(r.text).toBe(texts[r.index]);
    }
    const tooLong = await post('/rerank', { query: 'tei query', texts: ['short', syntheticText(rng, 800)], truncate: false });
    // TEI's answer: 422 Validation, in TEI's error body.
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.error_type).toBe('Validation');
    expect(tooLong.body.error).toMatch(/document 1/);
    const cut = await post('/rerank', { query: 'tei query', texts: ['short', syntheticText(rng, 800)], truncate: true });
    expect(cut.status).toBe(200);
  });

  it('should run an async job to completion and deliver a signed webhook', async () => {
    const received: { body: string; headers: Record<string, string> }[] = [];
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push({ body, headers: Object.fromEntries(Object.values(WEBHOOK_HEADERS).map((name) => [name, String(req.headers[name] ?? '')])) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const callback = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    try {
      const documents = ['alpha passage', 'beta passage text', 'gamma'];
      const accepted = await post('/v1/jobs', { query: 'async query', documents, callback_url: callback });
      expect(accepted.status).toBe(202);
      let status: any;
      for (let i = 0; i < 100; i++) {
        status = await (await fetch(`${base}/v1/jobs/${accepted.body.id}`)).json();
        if (status.status === 'completed') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(status.status).toBe('completed');
      const expected = await local.score('async query', documents);
      for (const r of status.result.results) expect(Math.abs(r.relevance_score - expected.scores[r.index]!)).toBeLessThanOrEqual(1e-4);
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(received).toHaveLength(1);
      const [webhook] = received;
      expect(new Webhook(SECRET).verify(webhook!.body, webhook!.headers)).toMatchObject({ id: accepted.body.id, status: 'completed' });
      const otherSecret = `whsec_${Buffer.from('not the secret the service signs with').toString('base64')}`;
      expect(() => new Webhook(otherSecret).verify(webhook!.body, webhook!.headers)).toThrow(WebhookVerificationError);
    } finally {
      receiver.close();
    }
  });

  it('should list the served model with its limit and live worker', async () => {
    const models = await (await fetch(`${base}/v1/models`)).json();
    expect(models.data).toEqual([expect.objectContaining({ id: modelId, max_length: 512, workers: 1 })]);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});
