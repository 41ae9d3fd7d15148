import { isIP } from 'node:net';
import type { Config } from '@rerank-pool/config';

/** Whether `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const name = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1' || name.startsWith('::ffff:127.');
  return false;
}

/** A server a command starts, for the warning: what it is and what to do about it. */
export interface ExposedServer {
  /** The CLI command (`api`, `worker`, `dev`). */
  command: string;
  /** What listens and what it gives away. */
  what: string;
  /** What the operator can do instead. */
  advice: string;
}

export const API_SERVER = (command: string): ExposedServer => ({
  command,
  what: 'the API (rerank, jobs and batches, all as tenant "default")',
  advice: 'Set API_KEYS=tenant:key,... to require keys, or HOST=127.0.0.1 to serve this machine only.',
});

export const WORKER_METRICS_SERVER: ExposedServer = {
  command: 'worker',
  what: 'the metrics server (/metrics, /healthz; it takes no credentials)',
  advice: 'Keep METRICS_PORT on a private network, or set HOST=127.0.0.1 when only this machine scrapes it.',
};

/**
 * The warning for a server reachable from other machines while API_KEYS is unset (a deployment
 * that has not thought about access yet), or undefined when there is nothing to warn about.
 */
export function exposureWarning(server: ExposedServer, host: string, port: number, config: Pick<Config, 'apiKeys'>): string | undefined {
  if (isLoopbackHost(host) || (config.apiKeys?.length ?? 0) > 0) return undefined;
  return `rerank-pool ${server.command}: WARNING: ${server.what} listens on ${host}:${port}, reachable from other machines, and API_KEYS is not set. ${server.advice}\n`;
}

/** Writes the warning (if any) to stderr, where an operator sees it apart from the JSON log. */
export function warnIfExposed(...args: Parameters<typeof exposureWarning>): void {
  const warning = exposureWarning(...args);
  if (warning) process.stderr.write(warning);
}
