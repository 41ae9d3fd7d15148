import type { Cluster, RedisOptions } from 'ioredis';
import { closeRedis } from './close-redis.js';
import { openRedis } from './open-redis.js';
import { isClusterTarget } from './redis-target.js';
import type { RedisTarget } from './redis-target.js';

/**
 * What BullMQ's Worker and QueueEvents open their connections from. For one server or a
 * Sentinel group, options: BullMQ makes (and ends) its connections itself. BullMQ cannot build
 * a cluster client from options, so it gets one to use for commands and to duplicate for its
 * blocking connection; lazy, so one only ever duplicated (QueueEvents) never connects. `close`
 * ends it, once the BullMQ object given it is closed: BullMQ does not end a client it was given.
 */
export interface BullConnection {
  connection: RedisOptions | Cluster;
  close(): Promise<void>;
}

export function bullConnection(target: RedisTarget): BullConnection {
  if (!isClusterTarget(target)) return { connection: target, close: async () => undefined };
  const cluster = openRedis(target, { lazyConnect: true }) as Cluster;
  return { connection: cluster, close: () => closeRedis(cluster) };
}
