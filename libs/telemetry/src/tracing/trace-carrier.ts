import { context, isSpanContextValid, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Context, SpanContext } from '@opentelemetry/api';

/** W3C trace context headers (`traceparent`, `tracestate`) as carried in a job's payload. */
export type TraceCarrier = Record<string, string>;

/**
 * The context `ctx` as W3C headers, for a job payload (`RerankJobData.trace`). Undefined when
 * nothing was injected: tracing off (no propagator registered) or no valid span in `ctx`.
 */
export function injectTraceCarrier(ctx: Context = context.active()): TraceCarrier | undefined {
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/**
 * The remote parent described by a job's carrier. The payload comes from Redis, so anything
 * that is not an object of strings is ignored rather than trusted; ROOT_CONTEXT when absent.
 */
export function extractTraceContext(carrier: unknown): Context {
  if (typeof carrier !== 'object' || carrier === null || Array.isArray(carrier)) return ROOT_CONTEXT;
  const headers: TraceCarrier = {};
  for (const [key, value] of Object.entries(carrier)) if (typeof value === 'string') headers[key] = value;
  return propagation.extract(ROOT_CONTEXT, headers);
}

/** The span context of a recording span in `ctx`, or undefined: worth linking to. */
export function recordingSpanContext(ctx: Context = context.active()): SpanContext | undefined {
  const span = trace.getSpan(ctx);
  if (!span?.isRecording()) return undefined;
  const spanContext = span.spanContext();
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}
