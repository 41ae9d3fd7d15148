import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { reconnectDelay } from './redis-options.js';
import { isClusterTarget } from './redis-target.js';
import type { RedisTarget } from './redis-target.js';

/** A connection to any target: one server (direct or through Sentinel) or a cluster. */
export type RedisClient = Redis | Cluster;

/** How long a request-serving connection waits for one command before giving up (see `requestRedisOptions`). */
export const REQUEST_COMMAND_TIMEOUT_MS = 2000;

/**
 * Options for a connection that serves HTTP requests: a command waits for Redis only until the
 * next failed reconnect attempt (at most about a second) or `commandTimeoutMs` (default
 * `REQUEST_COMMAND_TIMEOUT_MS`; the score cache gives up much sooner, a miss being cheap), then
 * rejects, so a request during an outage is answered 503 at once instead of hanging until Redis
 * is back. Not for BullMQ workers or QueueEvents: blocking connections must wait out an outage
 * (maxRetriesPerRequest null).
 */
export function requestRedisOptions<T extends RedisTarget>(target: T, commandTimeoutMs = REQUEST_COMMAND_TIMEOUT_MS): T {
  const failFast = { maxRetriesPerRequest: 0, commandTimeout: commandTimeoutMs };
  if (isClusterTarget(target)) return { ...target, nodeOptions: { ...target.nodeOptions, ...failFast } };
  return { ...target, ...failFast };
}

/** Options every connection may add to its target's: lazy connection, offline queue. */
export type ConnectionOverrides = Pick<RedisOptions, 'lazyConnect' | 'enableOfflineQueue' | 'connectionName'>;

/**
 * A client for `target`. A cluster client discovers the slots from the given nodes, follows
 * MOVED/ASK redirections, and retries a command during a failover or a cluster-down for as long
 * as a node's own options would wait for a reconnect.
 */
export function openRedis(target: RedisTarget, overrides: ConnectionOverrides = {}): RedisClient {
  if (!isClusterTarget(target)) return new Redis({ ...target, ...overrides });
  const { nodeOptions } = target;
  const options: ClusterOptions = {
    redisOptions: { ...nodeOptions, ...overrides },
    lazyConnect: overrides.lazyConnect,
    enableOfflineQueue: overrides.enableOfflineQueue,
    clusterRetryStrategy: reconnectDelay,
    // Fail-fast connections give up on a command as a node connection would; others keep
    // waiting through a failover, as BullMQ's workers must.
    maxRedirections: 16,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    // A node's address from CLUSTER SLOTS is dialled as it is (no DNS lookup), which TLS
    // endpoints of managed clusters need; the certificate is checked against REDIS_URL's host.
    ...(nodeOptions.tls ? { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) } : {}),
  };
  return new Cluster(target.clusterNodes, options);
}

export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

/**
 * A connection to each server that holds data: the client itself, or one to every master of a
 * cluster, once the client has learnt them (a cluster client knows no node before it is ready).
 * For commands that act on one server's whole keyspace (SCAN, INFO).
 */
export async function dataServers(redis: RedisClient): Promise<Redis[]> {
  if (!isCluster(redis)) return [redis];
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  return redis.nodes('master');
}
