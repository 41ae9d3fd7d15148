import { Registry } from 'prom-client';
import { TelemetryError } from '../telemetry-error.js';

export interface RerankMetricsOptions {
  /** Where the metrics are registered. Default: a new registry. */
  registry?: Registry;
  /** Also collect prom-client's process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /**
   * Longest a scrape waits for queue counts from Redis. Default 2000 ms: well inside
   * Prometheus's default 10 s scrape timeout, so a slow Redis drops those series, not the scrape.
   */
  sampleTimeoutMs?: number;
}

export type FilledRerankMetricsOptions = Required<RerankMetricsOptions>;

export function fillRerankMetricsOptions(options: RerankMetricsOptions): FilledRerankMetricsOptions {
  const filled = {
    registry: options.registry ?? new Registry(),
    defaultMetrics: options.defaultMetrics ?? true,
    sampleTimeoutMs: options.sampleTimeoutMs ?? 2000,
  };
  if (!Number.isFinite(filled.sampleTimeoutMs) || filled.sampleTimeoutMs <= 0) {
    throw new TelemetryError('TELEMETRY_INVALID_OPTION', `sampleTimeoutMs must be a positive number, got ${filled.sampleTimeoutMs}`);
  }
  return filled;
}
