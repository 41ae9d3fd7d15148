import type { RedisClient } from './open-redis.js';
import { isCluster } from './open-redis.js';

/**
 * Runs `issue`, whose commands on `redis` (sent at once or in the microtasks that follow, as
 * BullMQ's `add` sends its script) then leave in one write to the socket instead of one each: the
 * socket is corked until this turn of the event loop ends. Each write wakes Redis, which on a
 * small machine costs about as much as a short command. A cluster client (a socket per node) and
 * a connection not yet ready (commands wait in ioredis' offline queue) send as usual.
 */
export function inOneWrite<T>(redis: RedisClient, issue: () => T): T {
  const stream = isCluster(redis) || redis.status !== 'ready' ? undefined : redis.stream;
  if (!stream) return issue();
  stream.cork();
  try {
    return issue();
  } finally {
    setImmediate(() => stream.uncork());
  }
}
