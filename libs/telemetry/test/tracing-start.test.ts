import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { extractTraceContext, getTracer, injectTraceCarrier, startTracing, TelemetryError, withSpan } from '@rerank-pool/telemetry';
import type { TracingHandle } from '@rerank-pool/telemetry';

let handle: TracingHandle | undefined;

afterEach(async () => {
  await handle?.shutdown();
  handle = undefined;
});

describe('when OTEL_TRACES_EXPORTER is none (the default)', () => {
  it('should start no SDK: no provider or propagator registered, spans do not record, jobs carry nothing', async () => {
    for (const options of [{ exporter: 'none' as const }, {}]) {
      handle = await startTracing(options);
      expect(handle.enabled).toBe(false);
      const provider = trace.getTracerProvider() as unknown as { getDelegate(): object };
      expect(provider.getDelegate().constructor.name).toBe('NoopTracerProvider');
      expect(propagation.fields()).toEqual([]);
      expect(getTracer().startSpan('probe').isRecording()).toBe(false);
      expect(await withSpan('probe', {}, () => injectTraceCarrier())).toBeUndefined();
    }
  });
});

describe('when a span processor is given', () => {
  it('should record nested spans and carry the context through a job payload to a child elsewhere', async () => {
    const exporter = new InMemorySpanExporter();
    handle = await startTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)], defaultServiceName: 'telemetry-test' });
    expect(handle.enabled).toBe(true);
    const carrier = await withSpan('producer', {}, () => withSpan('enqueue', {}, () => injectTraceCarrier()));
    expect(carrier?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await withSpan('consumer', { parent: extractTraceContext(carrier) }, () => undefined);

    const spans = exporter.getFinishedSpans();
    const byName = Object.fromEntries(spans.map((span) => [span.name, span]));
    const traceId = byName.producer!.spanContext().traceId;
    expect(spans.map((span) => span.spanContext().traceId)).toEqual([traceId, traceId, traceId]);
    expect(byName.enqueue!.parentSpanContext?.spanId).toBe(byName.producer!.spanContext().spanId);
    expect(byName.consumer!.parentSpanContext?.spanId).toBe(byName.enqueue!.spanContext().spanId);
    expect(byName.consumer!.resource.attributes['service.name']).toBe('telemetry-test');
  });

  it('should mark a span failed with the error code when its work throws', async () => {
    const exporter = new InMemorySpanExporter();
    handle = await startTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const failure = Object.assign(new Error('bad input'), { code: 'invalid_request' });
    await expect(withSpan('failing', {}, () => Promise.reject(failure))).rejects.toBe(failure);
    const [span] = exporter.getFinishedSpans();
    expect(span!.status).toMatchObject({ code: 2, message: 'bad input' });
    expect(span!.attributes['error.type']).toBe('invalid_request');
    expect(span!.events.map((event) => event.name)).toEqual(['exception']);
  });

  it('should refuse a second start until the first is shut down, and stop recording after shutdown', async () => {
    handle = await startTracing({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
    await expect(startTracing({ exporter: 'console' })).rejects.toMatchObject({ code: 'TELEMETRY_ALREADY_STARTED' });
    await handle.shutdown();
    await handle.shutdown();
    expect(getTracer().startSpan('after').isRecording()).toBe(false);
    handle = await startTracing({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
    expect(getTracer().startSpan('again').isRecording()).toBe(true);
  });

  it('should ignore a carrier that is not an object of strings', async () => {
    handle = await startTracing({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
    for (const carrier of [undefined, null, 'traceparent', ['00-x'], { traceparent: 42 }, { traceparent: 'garbage' }]) {
      expect(trace.getSpanContext(extractTraceContext(carrier))).toBeUndefined();
    }
  });
});

describe('when exporting OTLP over HTTP', () => {
  let collector: Server;
  const received: Array<{ url?: string; contentType?: string; bytes: number }> = [];

  async function startCollector(): Promise<string> {
    collector = createServer((request: IncomingMessage, response) => {
      let bytes = 0;
      request.on('data', (chunk: Buffer) => (bytes += chunk.length));
      request.on('end', () => {
        received.push({ url: request.url, contentType: request.headers['content-type'], bytes });
        response.writeHead(200, { 'content-type': request.headers['content-type'] ?? 'application/json' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  }

  afterEach(async () => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    received.length = 0;
    await new Promise((resolve) => collector?.close(resolve));
  });

  it.each([
    ['http/json', 'application/json'],
    ['http/protobuf', 'application/x-protobuf'],
  ] as const)('should post spans as %s to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces', async (protocol, contentType) => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = await startCollector();
    handle = await startTracing({ exporter: 'otlp', protocol });
    await withSpan('exported', {}, () => undefined);
    await handle.shutdown();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ url: '/v1/traces', contentType });
    expect(received[0]!.bytes).toBeGreaterThan(0);
  });
});

describe('when an option is invalid', () => {
  it('should throw a TelemetryError naming the option', async () => {
    await expect(startTracing({ exporter: 'jaeger' as never })).rejects.toThrow(/exporter must be one of otlp\|console\|none, got "jaeger"/);
    await expect(startTracing({ exporter: 'otlp', protocol: 'udp' as never })).rejects.toThrow(TelemetryError);
    await expect(startTracing({ defaultServiceName: ' ' })).rejects.toThrow(/defaultServiceName/);
  });
});
