import { dataServers } from '@rerank-pool/redis-connection';
import type { RedisClient } from '@rerank-pool/redis-connection';

/**
 * Deletes every key under a BullMQ prefix: the whole footprint of one isolated deployment
 * (a test run, a benchmark) on a shared Redis. SCAN, not KEYS, so a large Redis is not blocked;
 * on a cluster, each master is scanned for the keys it holds.
 */
export async function deleteKeysWithPrefix(redis: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for (const server of await dataServers(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      // One key per DEL: on a cluster a multi-key DEL must stay within a slot.
      if (keys.length > 0) deleted += (await Promise.all(keys.map((key) => server.unlink(key)))).reduce((sum, n) => sum + n, 0);
    } while (cursor !== '0');
  }
  return deleted;
}
