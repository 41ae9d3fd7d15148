import { context, propagation, trace } from '@opentelemetry/api';
import { TelemetryError } from '../telemetry-error.js';
import { exportingProcessor } from './span-exporter.js';
import { fillTracingOptions } from './tracing-options.js';
import type { TracingOptions } from './tracing-options.js';

export interface TracingHandle {
  /** False when tracing is off: nothing was loaded or registered. */
  readonly enabled: boolean;
  /** Flushes pending spans and unregisters the SDK. Safe to call more than once. */
  shutdown(): Promise<void>;
}

const DISABLED: TracingHandle = { enabled: false, shutdown: async () => {} };

let running: TracingHandle | undefined;

/**
 * Starts the OpenTelemetry tracing SDK for this process, once, before it serves: a
 * NodeTracerProvider with AsyncLocalStorage context and W3C trace-context + baggage propagation,
 * registered globally so every `getTracer()` span (API, queue, worker, batcher) is recorded.
 *
 * Nothing is monkey-patched: spans are created by our own code (the HTTP server span in a
 * Fastify hook), so no `--import` loader is needed under ESM and the start order does not matter.
 * The SDK packages are imported here, on demand, so a process with tracing off never loads them.
 * Sampling follows `OTEL_TRACES_SAMPLER`/`_ARG`, the resource `OTEL_SERVICE_NAME` and
 * `OTEL_RESOURCE_ATTRIBUTES`, read by the SDK itself.
 */
export async function startTracing(options: TracingOptions = {}): Promise<TracingHandle> {
  const filled = fillTracingOptions(options);
  const processors = [...filled.spanProcessors];
  if (filled.exporter === 'none' && processors.length === 0) return DISABLED;
  if (running) throw new TelemetryError('TELEMETRY_ALREADY_STARTED', 'tracing is already started in this process; shut it down first');

  const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
  const { defaultResource, detectResources, envDetector, resourceFromAttributes } = await import('@opentelemetry/resources');
  if (filled.exporter !== 'none') processors.push(await exportingProcessor(filled.exporter, filled.protocol));
  // Later merges win: the environment's service name beats the per-command default.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': filled.defaultServiceName }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: processors });
  provider.register();

  let stopping: Promise<void> | undefined;
  const handle: TracingHandle = {
    enabled: true,
    shutdown: () => {
      stopping ??= (async () => {
        try {
          await provider.shutdown();
        } finally {
          trace.disable();
          context.disable();
          propagation.disable();
          running = undefined;
        }
      })();
      return stopping;
    },
  };
  running = handle;
  return handle;
}
