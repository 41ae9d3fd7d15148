import type { RedisOptions } from 'ioredis';

/**
 * Reconnect attempts back off to at most this. ioredis and BullMQ would otherwise wait up to 20 s
 * between attempts, so a service outlived a short Redis outage by as long again.
 */
const MAX_RECONNECT_DELAY_MS = 1000;

/**
 * ioredis options from a `redis://` or `rediss://` URL (user, password, db, TLS). BullMQ is given
 * options rather than a client so it opens its own connections, including blocking ones.
 */
export function redisOptionsFromUrl(raw: string): RedisOptions {
  const url = new URL(raw);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new TypeError(`Redis URL database must be a non-negative integer, got "${url.pathname.slice(1)}"`);
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db,
    tls: url.protocol === 'rediss:' ? { servername: url.hostname } : undefined,
    // BullMQ requires this for blocking connections and recommends it for workers: commands wait
    // for a reconnect instead of failing after 20 retries. Request-serving connections opt out
    // (`requestRedisOptions`).
    maxRetriesPerRequest: null,
    retryStrategy: reconnectDelay,
  };
}

/** 100 ms, 200 ms, ... then every second for as long as Redis stays away. */
export function reconnectDelay(attempt: number): number {
  return Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS);
}
