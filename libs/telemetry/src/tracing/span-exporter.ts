import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { OtlpProtocol, TracesExporter } from './tracing-options.js';

/**
 * The OTLP exporter for a protocol, each from its own package and loaded only when chosen (the
 * gRPC one pulls in @grpc/grpc-js). Endpoint, headers, timeout and compression are read by the
 * exporters themselves from the standard `OTEL_EXPORTER_OTLP_*` variables.
 */
async function otlpExporter(protocol: OtlpProtocol): Promise<SpanExporter> {
  switch (protocol) {
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
    case 'grpc':
      return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter();
  }
}

/**
 * The processor that ships spans for `exporter`: batched for OTLP (one request per batch,
 * `OTEL_BSP_*` tune it), immediate for the console, where seeing a span as it ends is the point.
 */
export async function exportingProcessor(exporter: Exclude<TracesExporter, 'none'>, protocol: OtlpProtocol): Promise<SpanProcessor> {
  const { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  if (exporter === 'console') return new SimpleSpanProcessor(new ConsoleSpanExporter());
  return new BatchSpanProcessor(await otlpExporter(protocol));
}
