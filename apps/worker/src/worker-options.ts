import { hostname } from 'node:os';
import type { Config } from '@rerank-pool/config';
import type { Logger, RerankMetrics } from '@rerank-pool/telemetry';

export interface RerankWorkerOptions {
  /** Validated configuration (see @rerank-pool/config). */
  config: Config;
  /** Model refs to serve (directories or Hub ids). Default: config.rerankModels. */
  models?: string[];
  /** Identifies this process in heartbeats. Default: host-pid-random. */
  workerId?: string;
  /** Heartbeat period; a worker is considered gone after 3 missed beats. Default 5000 ms. */
  heartbeatMs?: number;
  /** SIGTERM drain: active jobs get this long to finish before they are handed back to their queue. Default: WORKER_DRAIN_MS. */
  drainTimeoutMs?: number;
  /** Where progress and failures are reported. Default: pino JSON on stdout at LOG_LEVEL, with trace ids. */
  logger?: WorkerLogger;
  /** Where metrics are recorded. Default: the process's registry (`processMetrics()`). */
  metrics?: RerankMetrics;
  /**
   * Serve `GET /metrics` and `GET /healthz` on this port (0: any free port), on HOST. Default:
   * no server, so in-process workers (dev, tests, bench) claim no port; `rerank-pool worker`
   * passes METRICS_PORT.
   */
  metricsPort?: number;
}

export interface WorkerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A WorkerLogger writing through pino (which takes the fields first). */
export function pinoWorkerLogger(logger: Logger): WorkerLogger {
  return {
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}

export function defaultWorkerId(): string {
  return `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export const WORKER_DEFAULTS = {
  heartbeatMs: 5000,
};
