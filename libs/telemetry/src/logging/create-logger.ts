import { pino } from 'pino';
import type { DestinationStream, Level, Logger, LoggerOptions as PinoOptions } from 'pino';
import { TelemetryError } from '../telemetry-error.js';
import { traceLogFields } from './trace-log-fields.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = Level | 'silent';

export interface CreateLoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** `name` field on every line (`api`, `worker`). Default none. */
  name?: string;
  /** Where lines go. Default stdout. */
  destination?: DestinationStream;
  /**
   * Mix `trace_id`/`span_id` of the active span into every line. Default true. Fastify request
   * loggers get them bound per request instead (see the API), since Fastify's own lines are
   * written outside the request's span context.
   */
  traceIds?: boolean;
}

/**
 * The JSON logger of every rerank-pool process: pino, level as a label, ISO timestamps.
 * Callers log ids, counts and timings, never query or document text at info level.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const { level = 'info', name, destination, traceIds = true } = options;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new TelemetryError('TELEMETRY_INVALID_OPTION', `level must be one of ${LOG_LEVELS.join('|')}, got ${JSON.stringify(level)}`);
  }
  const settings: PinoOptions = {
    level,
    name,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: traceIds ? () => traceLogFields() : undefined,
  };
  return destination ? pino(settings, destination) : pino(settings);
}
