import { dataServers } from '@rerank-pool/redis-connection';
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
 * The cache is meant for a Redis of its own with an LRU policy (`allkeys-lru`). When the cache
 * leads to the queue's own server, or to one of its cluster's masters (same `run_id`, whatever the
 * URL or database says), any
 * eviction policy there could drop queue data: `allkeys-*` takes jobs, `volatile-*` takes job
 * locks (which carry a TTL) and so stalls running jobs. Only `noeviction` is safe, and then cache
 * writes are refused once memory is full, which costs misses, never jobs.
 */
export async function checkCacheEviction(cache: RedisClient, queue: RedisClient): Promise<string | undefined> {
  const [cacheServers, queueServers] = await Promise.all([serversOf(cache), serversOf(queue)]);
  const queueRunIds = new Set(queueServers.map(({ runId }) => runId));
  const policies = [...new Set(cacheServers.map(({ policy }) => policy))];
  const shared = cacheServers.filter(({ runId }) => queueRunIds.has(runId));
  if (shared.length === 0) {
    return policies.includes('noeviction')
      ? 'the score cache Redis has maxmemory-policy noeviction: once full it refuses new entries (misses); allkeys-lru keeps the most used ones'
      : undefined;
  }
  const evicting = shared.find(({ policy }) => policy !== 'noeviction');
  if (evicting) {
    throw new ScoreCacheError(
      'CACHE_MAY_EVICT_QUEUE_DATA',
      `the score cache (SCORE_CACHE_URL, SCORE_CACHE_CLUSTER_NODES) leads to the queue's own Redis, whose maxmemory-policy is ${evicting.policy}: evictions there would drop queue data. Give the cache a Redis of its own (maxmemory-policy allkeys-lru), or set the shared one to noeviction`,
    );
  }
  return "the score cache shares the queue's Redis (maxmemory-policy noeviction): its entries take the queue's memory; a Redis of its own with allkeys-lru is better";
}

/** Each server data lives on (every master of a cluster), by its run id, with its eviction policy. */
async function serversOf(redis: RedisClient): Promise<{ runId: string | undefined; policy: string }[]> {
  return Promise.all(
    (await dataServers(redis)).map(async (server) => {
      const [info, memory] = await Promise.all([server.info('server'), server.info('memory')]);
      return { runId: infoField(info, 'run_id'), policy: infoField(memory, 'maxmemory_policy') ?? 'unknown' };
    }),
  );
}
