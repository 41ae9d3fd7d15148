import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { TelemetryError } from '../telemetry-error.js';

export const TRACES_EXPORTERS = ['otlp', 'console', 'none'] as const;
export type TracesExporter = (typeof TRACES_EXPORTERS)[number];

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export interface TracingOptions {
  /**
   * `OTEL_TRACES_EXPORTER`. Default `none`: no SDK is loaded or registered and every span is a
   * non-recording no-op (the OpenTelemetry spec defaults to `otlp`; a service that exports to a
   * collector nobody runs would only log connection errors, so here tracing is opt-in).
   */
  exporter?: TracesExporter;
  /** `OTEL_EXPORTER_OTLP_PROTOCOL`, for `otlp`. Default `http/protobuf`, the spec's default. */
  protocol?: OtlpProtocol;
  /**
   * `service.name` when neither `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES` names one.
   * Default `rerank-pool`.
   */
  defaultServiceName?: string;
  /**
   * Processors added to the exporter's (tests: a SimpleSpanProcessor over an
   * InMemorySpanExporter). Giving any starts the SDK even when `exporter` is `none`.
   */
  spanProcessors?: SpanProcessor[];
}

export type FilledTracingOptions = Required<TracingOptions>;

export const TRACING_DEFAULTS = {
  exporter: 'none',
  protocol: 'http/protobuf',
  defaultServiceName: 'rerank-pool',
  spanProcessors: [],
} satisfies FilledTracingOptions;

export function fillTracingOptions(options: TracingOptions): FilledTracingOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const filled: FilledTracingOptions = { ...TRACING_DEFAULTS, ...given };
  if (!(TRACES_EXPORTERS as readonly string[]).includes(filled.exporter)) {
    throw new TelemetryError('TELEMETRY_INVALID_OPTION', `exporter must be one of ${TRACES_EXPORTERS.join('|')}, got ${JSON.stringify(filled.exporter)}`);
  }
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(filled.protocol)) {
    throw new TelemetryError('TELEMETRY_INVALID_OPTION', `protocol must be one of ${OTLP_PROTOCOLS.join('|')}, got ${JSON.stringify(filled.protocol)}`);
  }
  if (typeof filled.defaultServiceName !== 'string' || filled.defaultServiceName.trim() === '') {
    throw new TelemetryError('TELEMETRY_INVALID_OPTION', 'defaultServiceName must be a non-empty string');
  }
  return filled;
}
