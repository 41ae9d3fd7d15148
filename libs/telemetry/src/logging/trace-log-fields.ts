import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';

export interface TraceLogFields {
  trace_id?: string;
  span_id?: string;
}

/** `trace_id`/`span_id` of the span active in `ctx`, for log lines; empty without a valid span. */
export function traceLogFields(ctx: Context = context.active()): TraceLogFields {
  const spanContext = trace.getSpanContext(ctx);
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
