import type { Config } from '@rerank-pool/config';
import { startTracing, type TracingHandle } from '@rerank-pool/telemetry';

/**
 * Starts this process's tracing as the OTEL_* settings say (off unless OTEL_TRACES_EXPORTER is
 * set); `defaultServiceName` names the process when OTEL_SERVICE_NAME does not. Its shutdown
 * never fails: an unreachable collector costs the last spans, not a clean exit after the drain.
 */
export async function startProcessTracing(config: Config, defaultServiceName: string): Promise<TracingHandle> {
  const tracing = await startTracing({ exporter: config.otelTracesExporter, protocol: config.otelExporterOtlpProtocol, defaultServiceName });
  return {
    enabled: tracing.enabled,
    shutdown: () =>
      tracing.shutdown().catch((error: Error) => {
        process.stderr.write(`rerank-pool: the last spans were not exported: ${error.message}\n`);
      }),
  };
}
