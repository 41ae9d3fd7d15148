import type { RedisClient } from '@rerank-pool/redis-connection';
import { within } from '@rerank-pool/queue';
import { checkCacheEviction } from './eviction-check.js';
import { ScoreCache, type ScoreCacheOptions } from './score-cache.js';
import { ScoreCacheError } from './score-cache-error.js';

/** How long start-up waits for the cache Redis to answer the eviction check. */
const CHECK_WAIT_MS = 2000;

export interface OpenScoreCacheOptions extends ScoreCacheOptions {
  /** The queue's Redis: the cache must not be able to evict its data. */
  queue: RedisClient;
  /** Receives what an operator should know (a shared or noeviction cache Redis, an unreachable one). */
  warn: (message: string) => void;
}

/**
 * A score cache checked against the queue's Redis: refused (`CACHE_MAY_EVICT_QUEUE_DATA`) when it
 * could evict queue data. A cache that cannot be reached within CHECK_WAIT_MS does not stop the
 * service: it is opened anyway, requests miss until it answers, and the check is left undone.
 */
export async function openScoreCache(options: OpenScoreCacheOptions): Promise<ScoreCache> {
  const { queue, warn, ...cacheOptions } = options;
  const cache = new ScoreCache(cacheOptions);
  let warning: string | undefined;
  const unreachable = (why: string) => `the score cache Redis could not be checked (${why}); requests are scored until it answers`;
  try {
    const check = checkCacheEviction(cache.connection, queue);
    if ((await within(check, CHECK_WAIT_MS)) === 'timeout') {
      check.catch(() => undefined);
      warning = unreachable(`no answer within ${CHECK_WAIT_MS} ms`);
    } else {
      warning = await check;
    }
  } catch (error) {
    if (!(error instanceof ScoreCacheError)) {
      warning = unreachable((error as Error).message);
    } else {
      await cache.close();
      throw error;
    }
  }
  if (warning) warn(warning);
  return cache;
}
