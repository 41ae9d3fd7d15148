import { randomBytes } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { lineQueueNameForModel, queueNameForModel } from '@rerank-pool/queue';
import { startTracing } from '@rerank-pool/telemetry';
import type { TracingHandle } from '@rerank-pool/telemetry';
import { eventually, postJson, startLiveService, type LiveService } from './helpers/live-service.js';
import { waitForBatch } from './helpers/batches.js';

/** Spans end asynchronously (the server span after the response is sent): wait for `count` named `name`. */
async function finished(exporter: InMemorySpanExporter, name: string, count: number): Promise<ReadableSpan[]> {
  const named = () => exporter.getFinishedSpans().filter((span) => span.name === name);
  await eventually(() => named().length >= count);
  return named();
}

describe('when tracing is on and requests run through a real worker', () => {
  const exporter = new InMemorySpanExporter();
  const rng = createRng(5);
  let tracing: TracingHandle;
  let service: LiveService;
  let queue: string;

  beforeAll(async () => {
    tracing = await startTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    service = await startLiveService();
    queue = queueNameForModel(service.modelId);
  });

  afterAll(async () => {
    await service?.close();
    await tracing?.shutdown();
  });

  beforeEach(() => exporter.reset());

  it("should continue the caller's trace from the HTTP span through enqueue and the job to tokenize and inference", async () => {
    const callerTrace = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const documents = ['a first passage about ranking', 'a second passage', 'a third'];
    const response = await postJson(service.base, '/v2/rerank', { model: service.modelId, query: 'which passage', documents }, { traceparent: `00-${callerTrace}-${callerSpan}-01` });
    expect(response.status).toBe(200);

    const [server] = await finished(exporter, 'POST /v2/rerank', 1);
    const spans = exporter.getFinishedSpans();
    const one = (name: string) => {
      const found = spans.filter((span) => span.name === name);
      expect(found, name).toHaveLength(1);
      return found[0]!;
    };
    const [enqueue, job, tokenize, inference] = [`send ${queue}`, `process ${queue}`, 'rerank.tokenize', 'rerank.inference'].map(one);

    for (const span of [server!, enqueue!, job!, tokenize!, inference!]) expect(span.spanContext().traceId).toBe(callerTrace);
    expect(server!.kind).toBe(SpanKind.SERVER);
    expect(server!.parentSpanContext?.spanId).toBe(callerSpan);
    const port = Number(new URL(service.base).port);
    expect(server!.attributes).toEqual({
      'http.request.method': 'POST',
      'url.path': '/v2/rerank',
      'url.scheme': 'http',
      'http.route': '/v2/rerank',
      'server.address': '127.0.0.1',
      'server.port': port,
      'network.protocol.version': '1.1',
      'client.address': '127.0.0.1',
      'user_agent.original': 'node',
      'http.response.status_code': 200,
    });
    expect(enqueue!.kind).toBe(SpanKind.PRODUCER);
    expect(enqueue!.parentSpanContext?.spanId).toBe(server!.spanContext().spanId);
    expect(enqueue!.attributes).toMatchObject({
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': queue,
      'messaging.message.id': response.body.id,
    });
    // The job span's parent arrived through Redis, in the job payload.
    expect(job!.kind).toBe(SpanKind.CONSUMER);
    expect(job!.parentSpanContext).toMatchObject({ spanId: enqueue!.spanContext().spanId, isRemote: true });
    expect(job!.attributes).toMatchObject({
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': queue,
      'rerank.model': service.modelId,
      'rerank.documents': 3,
      'rerank.tokens': response.body.meta.tokens.input_tokens,
      'messaging.message.id': response.body.id,
    });
    expect(typeof job!.attributes['rerank.queue_wait_ms']).toBe('number');
    for (const child of [tokenize!, inference!]) expect(child.parentSpanContext?.spanId).toBe(job!.spanContext().spanId);
    expect(inference!.attributes).toMatchObject({ 'rerank.pairs': 3, 'rerank.tokens': response.body.meta.tokens.input_tokens });
  });

  it('should link each batch span to the job spans of the concurrent requests it served', async () => {
    const requests = Array.from({ length: 10 }, (_, j) => ({
      model: service.modelId,
      query: `query ${j} ${syntheticText(rng, 3)}`,
      documents: Array.from({ length: 3 + (j % 5) }, () => syntheticText(rng, 5 + Math.floor(rng() * 40))),
    }));
    const responses = await Promise.all(requests.map((body) => postJson(service.base, '/v1/rerank', body)));
    for (const response of responses) expect(response.status).toBe(200);
    const servers = await finished(exporter, 'POST /v1/rerank', requests.length);

    const spans = exporter.getFinishedSpans();
    const jobs = spans.filter((span) => span.name === `process ${queue}`);
    const batches = spans.filter((span) => span.name === 'rerank.batch');
    expect(jobs).toHaveLength(requests.length);
    // Each request is its own trace, from its HTTP span down to its job span.
    expect(new Set(servers.map((span) => span.spanContext().traceId))).toEqual(new Set(jobs.map((span) => span.spanContext().traceId)));
    expect(new Set(jobs.map((span) => span.spanContext().traceId)).size).toBe(requests.length);

    const jobSpanIds = new Set(jobs.map((span) => span.spanContext().spanId));
    const linked = new Set<string>();
    for (const batch of batches) {
      expect(batch.parentSpanContext).toBeUndefined();
      for (const link of batch.links) {
        expect(jobSpanIds.has(link.context.spanId)).toBe(true);
        const job = jobs.find((span) => span.spanContext().spanId === link.context.spanId)!;
        expect(link.context.traceId).toBe(job.spanContext().traceId);
        linked.add(link.context.spanId);
      }
      expect(batch.attributes['rerank.batch.jobs']).toBe(batch.links.length);
      expect(batch.attributes['rerank.batch.padding_efficiency']).toBeCloseTo(
        (batch.attributes['rerank.batch.real_tokens'] as number) / (batch.attributes['rerank.batch.padded_tokens'] as number),
      );
    }
    expect(linked).toEqual(jobSpanIds);
    // Concurrent requests share batches: some batch serves jobs of several traces.
    expect(Math.max(...batches.map((batch) => new Set(batch.links.map((link) => link.context.traceId)).size))).toBeGreaterThan(1);
    const rows = batches.reduce((sum, batch) => sum + (batch.attributes['rerank.batch.rows'] as number), 0);
    expect(rows).toBe(requests.reduce((sum, body) => sum + body.documents.length, 0));
  });

  it('should give each batch line its own trace, linked to the span of the request that created the batch', async () => {
    const lines = Array.from({ length: 4 }, (_, i) => ({ id: `line-${i}`, model: service.modelId, query: `query ${i}`, documents: ['one passage', 'another'] }));
    const accepted = await postJson(service.base, '/v1/batches', lines);
    expect(accepted.status).toBe(202);
    const [upload] = await finished(exporter, 'POST /v1/batches', 1);
    // Lines run from the model's line queue, not its online queue.
    const lineQueue = lineQueueNameForModel(service.modelId);
    const jobsOf = () => exporter.getFinishedSpans().filter((span) => span.name === `process ${lineQueue}` && span.attributes['rerank.offline_batch.id'] === accepted.body.id);
    expect(await waitForBatch(service.app, accepted.body.id)).toMatchObject({ status: 'completed', completed: lines.length });
    await eventually(() => jobsOf().length === lines.length);

    const jobs = jobsOf();
    expect(jobs.map((job) => job.attributes['rerank.offline_batch.line_index']).sort()).toEqual([0, 1, 2, 3]);
    for (const job of jobs) {
      expect(job.kind).toBe(SpanKind.CONSUMER);
      expect(job.parentSpanContext).toBeUndefined();
      expect(job.spanContext().traceId).not.toBe(upload!.spanContext().traceId);
      expect(job.links.map((link) => link.context)).toEqual([
        expect.objectContaining({ traceId: upload!.spanContext().traceId, spanId: upload!.spanContext().spanId }),
      ]);
    }
    expect(new Set(jobs.map((job) => job.spanContext().traceId)).size).toBe(lines.length);
  });
});
