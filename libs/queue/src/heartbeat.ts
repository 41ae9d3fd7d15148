import type { RedisClient } from '@rerank-pool/redis-connection';
import { keys } from './keys.js';
import { queueNameForModel } from './queue-name.js';

/** What a worker announces about itself; extra fields are kept as given. */
export interface WorkerHeartbeat {
  model: string;
  workerId: string;
  /** Max tokens per (query, document) pair of the loaded model. */
  maxLength?: number;
  [extra: string]: unknown;
}

/**
 * Announces a live worker for `ttlMs`; call again well within the TTL (e.g. every ttlMs / 3).
 * Each worker has its own expiring key, so Redis expires a dead worker without relying on
 * clocks of other hosts. A set indexes the keys; it has no TTL (workers' TTLs differ) and
 * `listLiveWorkers` prunes members whose key expired, so it holds only recent workers.
 */
export async function publishHeartbeat(redis: RedisClient, prefix: string, heartbeat: WorkerHeartbeat, ttlMs: number): Promise<void> {
  const queueName = queueNameForModel(heartbeat.model);
  const setKey = keys.heartbeatSet(prefix, queueName);
  await redis
    .multi()
    .set(keys.heartbeat(prefix, queueName, heartbeat.workerId), JSON.stringify(heartbeat), 'PX', ttlMs)
    .sadd(setKey, heartbeat.workerId)
    .exec();
}

/** Removes a worker's heartbeat at once (graceful shutdown), so readiness drops without waiting for the TTL. */
export async function removeHeartbeat(redis: RedisClient, prefix: string, model: string, workerId: string): Promise<void> {
  const queueName = queueNameForModel(model);
  await redis.multi().del(keys.heartbeat(prefix, queueName, workerId)).srem(keys.heartbeatSet(prefix, queueName), workerId).exec();
}

/** Workers of `model` whose heartbeat has not expired. */
export async function listLiveWorkers(redis: RedisClient, prefix: string, model: string): Promise<WorkerHeartbeat[]> {
  const queueName = queueNameForModel(model);
  const setKey = keys.heartbeatSet(prefix, queueName);
  const workerIds = await redis.smembers(setKey);
  if (workerIds.length === 0) return [];
  const values = await redis.mget(workerIds.map((id) => keys.heartbeat(prefix, queueName, id)));
  const dead = workerIds.filter((_, index) => values[index] === null);
  if (dead.length > 0) await redis.srem(setKey, ...dead);
  return values.filter((value): value is string => value !== null).map((value) => JSON.parse(value) as WorkerHeartbeat);
}
