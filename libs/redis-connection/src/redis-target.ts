import type { RedisOptions } from 'ioredis';
import { reconnectDelay, redisOptionsFromUrl } from './redis-options.js';

export interface RedisNode {
  host: string;
  port: number;
}

/**
 * A Redis Cluster: the nodes to discover it from (any subset of its masters and replicas) and the
 * options every node connection is made with (credentials, TLS, retries).
 */
export interface ClusterTarget {
  clusterNodes: RedisNode[];
  nodeOptions: RedisOptions;
}

/**
 * Where Redis is. Plain ioredis options name one server, or a Sentinel group (`sentinels` and
 * `name`: ioredis asks the sentinels for the master and asks again after a failover); a
 * `ClusterTarget` names a Redis Cluster, which needs a client of its own kind.
 */
export type RedisTarget = RedisOptions | ClusterTarget;

export function isClusterTarget(target: RedisTarget): target is ClusterTarget {
  return 'clusterNodes' in target;
}

/**
 * What the configuration says about Redis, as `loadConfig` of @rerank-pool/config reads and checks
 * it (REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS, REDIS_SENTINEL_NAME, REDIS_SENTINEL_PASSWORD):
 * at most one of cluster nodes and sentinels, a sentinel name with sentinels.
 */
export interface RedisSettings {
  /** Credentials, TLS and database; also the server itself when neither nodes nor sentinels are given. */
  redisUrl: string;
  redisClusterNodes?: RedisNode[];
  redisSentinels?: RedisNode[];
  redisSentinelName?: string;
  redisSentinelPassword?: string;
}

/**
 * The target the settings describe. With cluster nodes or sentinels, REDIS_URL keeps only its
 * credentials, TLS and (Sentinel) database: its host is not contacted.
 */
export function redisTarget(settings: RedisSettings): RedisTarget {
  const fromUrl = redisOptionsFromUrl(settings.redisUrl);
  const { host: _host, port: _port, ...credentials } = fromUrl;
  if (settings.redisClusterNodes) {
    // TLS certificates of managed clusters name the configuration endpoint, not the node
    // addresses CLUSTER SLOTS returns: connect to those addresses as given (see openRedis),
    // checking the certificate against the endpoint's name (servername, from REDIS_URL).
    return { clusterNodes: settings.redisClusterNodes, nodeOptions: { ...credentials, db: undefined } };
  }
  if (settings.redisSentinels) {
    return {
      ...credentials,
      sentinels: settings.redisSentinels,
      name: settings.redisSentinelName,
      sentinelPassword: settings.redisSentinelPassword,
      // Asked again from scratch (all sentinels) after this, for as long as none answers.
      sentinelRetryStrategy: reconnectDelay,
      // No failoverDetector: its +switch-master handler disconnects the connector even while a
      // reconnect is resolving the master, and ioredis then ends the client for good (status
      // `end`, never retried): measured here, about one failover in five left an API replica
      // answering 503 until restarted. A master that dies closes its connections, and a demoted
      // one is made a replica, which closes them too: either way ioredis asks the sentinels again.
      // A demoted master answers writes READONLY until the connection is remade to the new one.
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
    };
  }
  return fromUrl;
}
