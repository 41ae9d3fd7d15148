import { hostname } from 'node:os';
import type { Config } from '@rerank-pool/config';

export interface RerankWorkerOptions {
  /** Validated configuration (see @rerank-pool/config). */
  config: Config;
  /** Model refs to serve (directories or Hub ids). Default: config.rerankModels. */
  models?: string[];
  /** Identifies this process in heartbeats. Default: host-pid-random. */
  workerId?: string;
  /** Heartbeat period; a worker is considered gone after 3 missed beats. Default 5000 ms. */
  heartbeatMs?: number;
  /** SIGTERM drain: active jobs get this long to finish before they are left to another worker. Default 25000 ms. */
  drainTimeoutMs?: number;
  /** Where progress and failures are reported. Default: console. */
  logger?: WorkerLogger;
}

export interface WorkerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const consoleLogger: WorkerLogger = {
  info: (message, fields) => console.log(JSON.stringify({ level: 'info', msg: message, ...fields })),
  warn: (message, fields) => console.warn(JSON.stringify({ level: 'warn', msg: message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: 'error', msg: message, ...fields })),
};

export function defaultWorkerId(): string {
  return `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export const WORKER_DEFAULTS = {
  heartbeatMs: 5000,
  drainTimeoutMs: 25_000,
};
