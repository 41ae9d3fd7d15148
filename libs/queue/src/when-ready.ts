import type { RedisClient } from '@rerank-pool/redis-connection';

/** ioredis states in which a connection attempt is under way and may yet succeed. */
const CONNECTING = new Set(['wait', 'connecting', 'connect']);

/**
 * True when `redis` is connected now or gets there within `timeoutMs` of an attempt already under
 * way (a process's first requests arrive while it connects); false at once when it is between
 * attempts, so a request during an outage is not held.
 */
export function whenReady(redis: RedisClient, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  if (!CONNECTING.has(redis.status)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const settle = () => {
      clearTimeout(timer);
      redis.off('ready', settle);
      redis.off('close', settle);
      resolve(redis.status === 'ready');
    };
    const timer = setTimeout(settle, timeoutMs);
    timer.unref();
    redis.on('ready', settle);
    redis.on('close', settle);
  });
}
