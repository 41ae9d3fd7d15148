import type { RedisOptions } from 'ioredis';

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
    // BullMQ requires this for blocking connections and recommends it everywhere: commands wait
    // for a reconnect instead of failing after 20 retries.
    maxRetriesPerRequest: null,
  };
}
