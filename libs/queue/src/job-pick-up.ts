import type { RedisClient } from '@rerank-pool/redis-connection';
import { keys } from './keys.js';
import { TAKE_PENDING_PAIRS_LUA } from './pending-pairs.js';

/** A job as a worker picks it up (BullMQ's `Job` fits). */
export interface PickedUpJob {
  id?: string;
  queueName: string;
  /** `prefix:queueName`: the job's key is this, a colon and its id. */
  queueQualifiedName: string;
  data: unknown;
}

// KEYS: pending-pairs entries and totals, the tenant's unstarted jobs, the cancel marker (all under
// the queue's qualified name, so in its cluster slot). ARGV: job id, the tenant set's member ('' for
// a job without a tenant). Returns 1 when a cancellation was asked for.
const PICK_UP_LUA = `${TAKE_PENDING_PAIRS_LUA}
takePendingPairs(KEYS[1], KEYS[2], ARGV[1])
if ARGV[2] ~= '' then redis.call('ZREM', KEYS[3], ARGV[2]) end
return redis.call('EXISTS', KEYS[4])
`;

interface PickUpCommand {
  rerankPoolPickUpJob(entries: string, totals: string, tenantQueued: string, cancelRequested: string, jobId: string, tenantMember: string): Promise<number>;
}

function command(redis: RedisClient): PickUpCommand {
  if (!('rerankPoolPickUpJob' in redis)) redis.defineCommand('rerankPoolPickUpJob', { numberOfKeys: 4, lua: PICK_UP_LUA });
  return redis as unknown as PickUpCommand;
}

/**
 * A worker's first step with a rerank job, one script: the job leaves its tenant's unstarted jobs
 * (TENANT_MAX_QUEUED_JOBS) and the pending pairs, and a cancellation asked for before now is
 * found. Run on every attempt: a job picked up again (stalled, retried) is taken from neither twice.
 *
 * One script rather than a pipeline: it is on the path of every online request, and an ioredis
 * pipeline built on a connection BullMQ defined its scripts on copies each of them (about 0.1 ms
 * a request here).
 */
export async function pickUpJob(redis: RedisClient, prefix: string, job: PickedUpJob): Promise<{ cancelRequested: boolean }> {
  const jobId = job.id ?? '';
  const tenant = (job.data as { tenant?: unknown } | undefined)?.tenant;
  const hasTenant = typeof tenant === 'string';
  const found = await command(redis).rerankPoolPickUpJob(
    keys.pendingPairs(job.queueQualifiedName),
    keys.pendingPairsTotal(job.queueQualifiedName),
    keys.tenantQueued(job.queueQualifiedName, hasTenant ? tenant : ''),
    keys.cancelRequested(prefix, job.queueName, jobId),
    jobId,
    hasTenant ? `${job.queueQualifiedName}:${jobId}` : '',
  );
  return { cancelRequested: found === 1 };
}
