import { Writable } from 'node:stream';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, startTracing, withSpan } from '@rerank-pool/telemetry';
import type { TracingHandle } from '@rerank-pool/telemetry';

function sink(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('when a process logs', () => {
  let tracing: TracingHandle;

  beforeAll(async () => {
    tracing = await startTracing({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
  });

  afterAll(async () => {
    await tracing.shutdown();
  });

  it('should write JSON lines with the level as a label, and the active span ids inside a span only', async () => {
    const { stream, lines } = sink();
    const logger = createLogger({ level: 'info', name: 'worker', destination: stream });
    logger.info({ jobId: 'j1' }, 'outside');
    const ids = await withSpan('work', {}, (span) => {
      logger.warn({ jobId: 'j1' }, 'inside');
      return span.spanContext();
    });
    logger.debug('below the level');

    const [outside, inside, ...rest] = lines();
    expect(rest).toEqual([]);
    expect(outside).toMatchObject({ level: 'info', name: 'worker', msg: 'outside', jobId: 'j1' });
    expect(outside).not.toHaveProperty('trace_id');
    expect(inside).toMatchObject({ level: 'warn', msg: 'inside', trace_id: ids.traceId, span_id: ids.spanId });
    expect(typeof inside!.time).toBe('string');
  });

  it('should leave span ids to the caller when asked to', async () => {
    const { stream, lines } = sink();
    const logger = createLogger({ destination: stream, traceIds: false });
    await withSpan('work', {}, () => logger.info('inside'));
    expect(lines()[0]).not.toHaveProperty('trace_id');
  });

  it('should refuse an unknown level, naming it', () => {
    expect(() => createLogger({ level: 'loud' as never })).toThrow(/level must be one of .*got "loud"/);
  });
});
