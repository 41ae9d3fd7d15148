export { TelemetryError, type TelemetryErrorCode } from './telemetry-error.js';
export { getTracer, recordSpanError, TRACER_NAME, withSpan, type WithSpanOptions } from './tracing/tracer.js';
export { extractTraceContext, injectTraceCarrier, recordingSpanContext, type TraceCarrier } from './tracing/trace-carrier.js';
export {
  OTLP_PROTOCOLS,
  TRACES_EXPORTERS,
  TRACING_DEFAULTS,
  type OtlpProtocol,
  type TracesExporter,
  type TracingOptions,
} from './tracing/tracing-options.js';
export { startTracing, type TracingHandle } from './tracing/start-tracing.js';
export { RerankMetrics, processMetrics, type BatchObservation, type SignalsObservation } from './metrics/rerank-metrics.js';
export type { RerankMetricsOptions } from './metrics/metrics-options.js';
export {
  QUEUE_STATES,
  type PoolUtilization,
  type PoolUtilizationSource,
  type QueueDepth,
  type QueueDepthSource,
  type QueueState,
} from './metrics/queue-depth.js';
export { MAX_BATCH_PROGRESS_SERIES, OperationsMetrics } from './metrics/operations-metrics.js';
export {
  WEBHOOK_OUTCOMES,
  type BatchProgress,
  type BatchProgressSource,
  type LoadedModel,
  type LoadedModelSource,
  type RedisProbe,
  type WebhookOutcome,
} from './metrics/operations-sources.js';
export { containerMemoryLimitBytes } from './metrics/memory-limit.js';
export { MetricsServer, type MetricsServerOptions } from './metrics/metrics-server.js';
export { createLogger, LOG_LEVELS, type CreateLoggerOptions, type LogLevel } from './logging/create-logger.js';
export type { DestinationStream, Logger } from 'pino';
export { traceLogFields, type TraceLogFields } from './logging/trace-log-fields.js';
export { parseExposition, sampleSum, type MetricSample } from './metrics/parse-exposition.js';
