import type { Config } from '@rerank-pool/config';
import { startTracing, type TracingHandle } from '@rerank-pool/telemetry';

/**
 * Starts this process's tracing as the OTEL_* settings say (off unless OTEL_TRACES_EXPORTER is
 * set); `defaultServiceName` names the process when OTEL_SERVICE_NAME does not.
 */
export function startProcessTracing(config: Config, defaultServiceName: string): Promise<TracingHandle> {
  return startTracing({ exporter: config.otelTracesExporter, protocol: config.otelExporterOtlpProtocol, defaultServiceName });
}
