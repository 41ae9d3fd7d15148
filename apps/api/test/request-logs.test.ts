import { Writable } from 'node:stream';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueNameForModel } from '@rerank-pool/queue';
import { createLogger, startTracing } from '@rerank-pool/telemetry';
import type { TracingHandle } from '@rerank-pool/telemetry';
import { pinoWorkerLogger } from '@rerank-pool/worker';
import { eventually, postJson, startLiveService, type LiveService } from './helpers/live-service.js';

type LogLine = Record<string, any>;

function logSink(): { stream: Writable; lines: LogLine[]; raw: string[] } {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  return { stream, lines, raw };
}

// Marker words that must never reach a log line at info level.
const SECRET_QUERY = 'zanzibar-quokka-query';
const SECRET_DOCUMENT = 'pelican-marmalade-passage';

describe('when the API and the worker log at info level', () => {
  const exporter = new InMemorySpanExporter();
  const api = logSink();
  const worker = logSink();
  let tracing: TracingHandle;
  let service: LiveService;

  beforeAll(async () => {
    tracing = await startTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    service = await startLiveService({
      apiLogDestination: api.stream,
      workerLogger: pinoWorkerLogger(createLogger({ level: 'info', name: 'worker', destination: worker.stream })),
    });
  });

  afterAll(async () => {
    await service?.close();
    await tracing?.shutdown();
  });

  it("should put the caller's request id on every line of its request, and the trace id on the completion line", async () => {
    const response = await postJson(
      service.base,
      '/v1/rerank',
      { model: service.modelId, query: SECRET_QUERY, documents: [SECRET_DOCUMENT, `another ${SECRET_DOCUMENT}`] },
      { 'x-request-id': 'req-7f3a.42' },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req-7f3a.42');
    const ofRequest = () => api.lines.filter((line) => line.request_id === 'req-7f3a.42');
    await eventually(() => ofRequest().length === 2);

    const lines = ofRequest();
    expect(lines.map((line) => line.msg)).toEqual(['incoming request', 'request completed']);
    const server = exporter.getFinishedSpans().find((span) => span.name === 'POST /v1/rerank')!;
    expect(lines[1]).toMatchObject({ level: 'info', name: 'api', trace_id: server.spanContext().traceId, span_id: server.spanContext().spanId });
    expect(lines[1]!.res.statusCode).toBe(200);
  });

  it('should replace a request id that is not a plain token with a fresh one', async () => {
    const response = await postJson(service.base, '/v1/rerank', { model: service.modelId, query: 'q', documents: ['d'] }, { 'x-request-id': 'two words' });
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await eventually(() => api.lines.filter((line) => line.request_id === id).length === 2);
  });

  it("should log a failed job in the worker with its request's trace id and no text", async () => {
    const tooLong = Array.from({ length: 600 }, () => SECRET_DOCUMENT).join(' ');
    const response = await postJson(service.base, '/rerank', { model: service.modelId, query: SECRET_QUERY, texts: [tooLong], truncate: false });
    // TEI's status for an input over the model's limit (its Validation error).
    expect(response.status).toBe(422);
    const failed = worker.lines.find((line) => line.msg === 'job failed');
    expect(failed).toMatchObject({ level: 'warn', name: 'worker', code: 'input_too_long' });
    const job = exporter.getFinishedSpans().find((span) => span.name === `process ${queueNameForModel(service.modelId)}` && span.attributes['messaging.message.id'] === failed!.jobId)!;
    expect(failed!.trace_id).toBe(job.spanContext().traceId);
    expect(failed!.span_id).toBe(job.spanContext().spanId);
  });

  it('should never write query or document text', () => {
    expect(api.raw.length).toBeGreaterThan(0);
    for (const line of [...api.raw, ...worker.raw]) {
      expect(line).not.toContain(SECRET_QUERY);
      expect(line).not.toContain(SECRET_DOCUMENT);
    }
  });
});
