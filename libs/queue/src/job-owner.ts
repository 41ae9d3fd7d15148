import type { Queue } from 'bullmq';
import type { RedisClient } from '@rerank-pool/redis-connection';
import { keys } from './keys.js';

/** What every rerank job is named before its tenant: `rerank:<tenant>`. */
const NAME_PREFIX = 'rerank:';
/** The name of jobs added before names carried the tenant (and of nothing since). */
const UNNAMED = 'rerank';

/**
 * The BullMQ name of a rerank job: it carries the tenant, so the tenant can be read from one
 * small hash field without the job's payload (see `readJobOwner`). Dashboards show it too.
 */
export function rerankJobName(tenant: string): string {
  return `${NAME_PREFIX}${tenant}`;
}

/**
 * The tenant a job (or its cancel tombstone) belongs to; undefined when neither exists. One round
 * trip reads the job's name and the tombstone, whatever the answer: a missing job and another
 * tenant's job cost the same commands, so neither the answer nor its timing tells them apart.
 * Only a job added before names carried the tenant has its payload read for it.
 */
export async function readJobOwner(redis: RedisClient, queue: Queue, prefix: string, jobId: string): Promise<string | undefined> {
  const jobKey = queue.toKey(jobId);
  const replies = await redis.pipeline().hget(jobKey, 'name').get(keys.tombstone(prefix, queue.name, jobId)).exec();
  if (!replies) throw new Error(`reading the owner of job ${jobId} was aborted`);
  for (const [error] of replies) if (error) throw error;
  const [[, name], [, tombstone]] = replies as [[null, string | null], [null, string | null]];
  if (typeof name === 'string' && name.startsWith(NAME_PREFIX)) return name.slice(NAME_PREFIX.length);
  if (name === UNNAMED) return tenantOfPayload(await redis.hget(jobKey, 'data'));
  if (typeof tombstone === 'string') return tenantOfPayload(tombstone);
  return undefined;
}

function tenantOfPayload(raw: string | null): string | undefined {
  if (raw === null) return undefined;
  const tenant = (JSON.parse(raw) as { tenant?: unknown }).tenant;
  return typeof tenant === 'string' ? tenant : undefined;
}
