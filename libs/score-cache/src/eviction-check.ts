import type { RedisClient } from '@rerank-pool/redis-connection';
import { ScoreCacheError } from './score-cache-error.js';

function infoField(info: string, field: string): string | undefined {
  const line = info.split(/\r?\n/).find((entry) => entry.startsWith(`${field}:`));
  return line?.slice(field.length + 1).trim();
}

/**
 * Refuses a cache that could make Redis evict queue data; returns a warning for a setup that is
 * safe but worth knowing about, or undefined.
 *
 * The cache is meant for a Redis of its own with an LRU policy (`allkeys-lru`). When SCORE_CACHE_URL
 * leads to the queue's own server (same `run_id`, whatever the URL or database says), any
 * eviction policy there could drop queue data: `allkeys-*` takes jobs, `volatile-*` takes job
 * locks (which carry a TTL) and so stalls running jobs. Only `noeviction` is safe, and then cache
 * writes are refused once memory is full, which costs misses, never jobs.
 */
export async function checkCacheEviction(cache: RedisClient, queue: RedisClient): Promise<string | undefined> {
  const [cacheServer, queueServer, cacheMemory] = await Promise.all([cache.info('server'), queue.info('server'), cache.info('memory')]);
  const policy = infoField(cacheMemory, 'maxmemory_policy') ?? 'unknown';
  if (infoField(cacheServer, 'run_id') !== infoField(queueServer, 'run_id')) {
    return policy === 'noeviction'
      ? 'the score cache Redis has maxmemory-policy noeviction: once full it refuses new entries (misses); allkeys-lru keeps the most used ones'
      : undefined;
  }
  if (policy !== 'noeviction') {
    throw new ScoreCacheError(
      'CACHE_MAY_EVICT_QUEUE_DATA',
      `SCORE_CACHE_URL leads to the queue's own Redis, whose maxmemory-policy is ${policy}: evictions there would drop queue data. Give the cache a Redis of its own (maxmemory-policy allkeys-lru), or set the shared one to noeviction`,
    );
  }
  return "the score cache shares the queue's Redis (maxmemory-policy noeviction): its entries take the queue's memory; a Redis of its own with allkeys-lru is better";
}
