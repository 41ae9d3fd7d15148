import type { RedisClient } from '@rerank-pool/redis-connection';
import { keys } from './keys.js';

/** What remains of a cancelled job: enough to answer `GET /v1/jobs/:id` with `cancelled`. */
export interface Tombstone {
  tenant: string;
  createdAt: number;
  cancelledAt: number;
}

export async function writeTombstone(
  redis: RedisClient,
  prefix: string,
  queueName: string,
  jobId: string,
  tombstone: Tombstone,
  retentionSeconds: number,
): Promise<void> {
  await redis.set(keys.tombstone(prefix, queueName, jobId), JSON.stringify(tombstone), 'EX', retentionSeconds);
}

export async function readTombstone(
  redis: RedisClient,
  prefix: string,
  queueName: string,
  jobId: string,
): Promise<Tombstone | undefined> {
  const raw = await redis.get(keys.tombstone(prefix, queueName, jobId));
  return raw === null ? undefined : (JSON.parse(raw) as Tombstone);
}

export async function deleteTombstone(redis: RedisClient, prefix: string, queueName: string, jobId: string): Promise<void> {
  await redis.del(keys.tombstone(prefix, queueName, jobId));
}
