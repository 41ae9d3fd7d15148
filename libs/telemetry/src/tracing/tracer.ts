import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context, Span, SpanOptions, Tracer } from '@opentelemetry/api';

/** Instrumentation scope of every span rerank-pool creates. */
export const TRACER_NAME = 'rerank-pool';

/**
 * The tracer rerank-pool code starts spans with. It comes from the OpenTelemetry API's global
 * proxy, so it may be taken at import time: until `startTracing` registers an SDK (and forever
 * when tracing is off) it hands out non-recording spans, which cost a few object allocations.
 */
export function getTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

export interface WithSpanOptions extends SpanOptions {
  /** Parent context. Default: the active one (an extracted remote context for a job). */
  parent?: Context;
  /** Default: `getTracer()`; tests and libraries may inject their own. */
  tracer?: Tracer;
}

/**
 * Runs `fn` in a new span that is active for its whole duration (child spans and log lines
 * pick it up), records a thrown error on it, and always ends it.
 */
export async function withSpan<T>(name: string, options: WithSpanOptions, fn: (span: Span) => Promise<T> | T): Promise<T> {
  const { parent = context.active(), tracer = getTracer(), ...spanOptions } = options;
  const span = tracer.startSpan(name, spanOptions, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    recordSpanError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks the span failed with the error; a `code` property (our error catalogues) becomes `error.type`. */
export function recordSpanError(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  const exception = error instanceof Error ? error : new Error(String(error));
  span.recordException(exception);
  const code = (error as { code?: unknown } | undefined)?.code;
  span.setAttribute('error.type', typeof code === 'string' ? code : exception.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
}
