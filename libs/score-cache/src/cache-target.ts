import { redisTarget } from '@rerank-pool/redis-connection';
import type { RedisNode, RedisTarget } from '@rerank-pool/redis-connection';

/** The cache's settings as `loadConfig` reads them. */
export interface ScoreCacheSettings {
  scoreCacheUrl?: string;
  scoreCacheClusterNodes?: RedisNode[];
}

/**
 * Where the cache Redis is, or undefined when no cache is configured: one server (SCORE_CACHE_URL)
 * or a cluster (SCORE_CACHE_CLUSTER_NODES, with SCORE_CACHE_URL's password and TLS if given).
 */
export function scoreCacheTarget({ scoreCacheUrl, scoreCacheClusterNodes }: ScoreCacheSettings): RedisTarget | undefined {
  if (scoreCacheUrl === undefined && scoreCacheClusterNodes === undefined) return undefined;
  return redisTarget({ redisUrl: scoreCacheUrl ?? 'redis://127.0.0.1:6379', redisClusterNodes: scoreCacheClusterNodes });
}
