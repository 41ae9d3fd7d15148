import { whenReady } from '@rerank-pool/queue';
import { closeRedis, openRedis, requestRedisOptions } from '@rerank-pool/redis-connection';
import type { RedisClient, RedisTarget } from '@rerank-pool/redis-connection';
import { decodeCachedPair, encodeCachedPair, type CachedPair } from './cached-pair.js';
import { pairKeys, type PairOptions } from './pair-keys.js';

export interface ScoreCacheOptions {
  /** Where the cache Redis is (`scoreCacheTarget`: SCORE_CACHE_URL, SCORE_CACHE_CLUSTER_NODES). */
  connection: RedisTarget;
  /** Key prefix; the queue prefix, so one cache Redis can serve several deployments. */
  prefix: string;
  /** How long an entry lives (SCORE_CACHE_TTL_SECONDS). */
  ttlSeconds: number;
  /** How long the API trusts a model identity it read before reading it again. Default 1000 ms. */
  identityRefreshMs?: number;
  /** Each failed cache command (the request goes on as a miss). */
  onError?: (error: Error) => void;
}

/**
 * A cache command waits this long at most: a lookup that takes longer than this would cost a
 * request more than scoring its 20 documents, so it gives up and the pairs are scored.
 */
const COMMAND_TIMEOUT_MS = 250;
const DEFAULT_IDENTITY_REFRESH_MS = 1000;

interface KnownIdentity {
  value: string | undefined;
  readAt: number;
  reading?: Promise<string | undefined>;
}

/**
 * Pair scores in a Redis of their own, one key per pair with a TTL, so the cache can run with an
 * LRU policy that never meets queue data. Lookups and writes never fail a request: a cache that
 * is down, slow or holding something unreadable is a miss, reported to `onError`.
 *
 * Workers publish the identity of the model they load (`publishIdentity`); the API reads it
 * (`identityOf`) to look up a request's pairs without a model file of its own.
 */
export class ScoreCache {
  private readonly redis: RedisClient;
  private readonly keyPrefix: string;
  private readonly identities = new Map<string, KnownIdentity>();
  private readonly identityRefreshMs: number;

  constructor(private readonly options: ScoreCacheOptions) {
    this.redis = openRedis(requestRedisOptions(options.connection, COMMAND_TIMEOUT_MS));
    // Reconnects by itself; each failed command reaches `onError` once, through the call that issued it.
    this.redis.on('error', () => {});
    this.keyPrefix = `${options.prefix}:score-cache`;
    this.identityRefreshMs = options.identityRefreshMs ?? DEFAULT_IDENTITY_REFRESH_MS;
  }

  /** The cache's own connection, for the eviction check (`checkCacheEviction`). */
  get connection(): RedisClient {
    return this.redis;
  }

  /** Whether the cache Redis answers, giving a connection being made up to `waitMs`. */
  ready(waitMs: number): Promise<boolean> {
    return whenReady(this.redis, waitMs);
  }

  /** Per document, its cached pair or undefined (a miss). One round trip (one slot on a cluster: see `pairKeys`). */
  async lookup(identity: string, options: PairOptions, query: string, documents: readonly string[]): Promise<(CachedPair | undefined)[]> {
    const keys = pairKeys(this.pairPrefix(identity), identity, options, query, documents);
    let values: (string | null)[];
    try {
      values = await this.redis.mget(keys);
    } catch (error) {
      this.options.onError?.(error as Error);
      return documents.map(() => undefined);
    }
    return values.map((value) => (value === null ? undefined : decodeCachedPair(value)));
  }

  /** Writes computed pairs (`pairs[i]` for `documents[i]`); one pipelined round trip, never throws. */
  async store(identity: string, options: PairOptions, query: string, documents: readonly string[], pairs: readonly CachedPair[]): Promise<void> {
    if (documents.length === 0) return;
    const keys = pairKeys(this.pairPrefix(identity), identity, options, query, documents);
    const pipeline = this.redis.pipeline();
    keys.forEach((key, index) => pipeline.set(key, encodeCachedPair(pairs[index]!), 'EX', this.options.ttlSeconds));
    try {
      const replies = await pipeline.exec();
      const failed = replies?.find(([error]) => error !== null);
      if (failed) this.options.onError?.(failed[0] as Error);
    } catch (error) {
      this.options.onError?.(error as Error);
    }
  }

  /** Announces the identity of the model a worker serves as `model`, for as long as its entries live. */
  async publishIdentity(model: string, identity: string): Promise<void> {
    try {
      await this.redis.set(this.identityKey(model), identity, 'EX', this.options.ttlSeconds);
      this.identities.set(model, { value: identity, readAt: Date.now() });
    } catch (error) {
      this.options.onError?.(error as Error);
    }
  }

  /**
   * The identity workers published for `model`, or undefined when none has (then nothing can be
   * looked up and requests are scored). Read at most once per `identityRefreshMs`, by one request
   * that the others arriving meanwhile wait with: a request after a model change never gets the
   * old model's scores once that long has passed.
   */
  async identityOf(model: string): Promise<string | undefined> {
    const known = this.identities.get(model);
    if (known && Date.now() - known.readAt < this.identityRefreshMs) return known.value;
    if (known?.reading) return known.reading;
    const entry: KnownIdentity = known ?? { value: undefined, readAt: 0 };
    entry.reading = this.redis.get(this.identityKey(model)).then(
      (value) => {
        entry.value = value ?? undefined;
        entry.readAt = Date.now();
        entry.reading = undefined;
        return entry.value;
      },
      (error: Error) => {
        this.options.onError?.(error);
        entry.reading = undefined;
        return entry.value;
      },
    );
    this.identities.set(model, entry);
    return entry.reading;
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }

  private identityKey(model: string): string {
    return `${this.keyPrefix}:identity:${model}`;
  }

  private pairPrefix(identity: string): string {
    return `${this.keyPrefix}:${identity.slice(0, 8)}`;
  }
}
