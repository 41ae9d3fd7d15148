import type { Redis } from 'ioredis';

/**
 * Deletes every key under a BullMQ prefix: the whole footprint of one isolated deployment
 * (a test run, a benchmark) on a shared Redis. SCAN, not KEYS, so a large Redis is not blocked.
 */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
