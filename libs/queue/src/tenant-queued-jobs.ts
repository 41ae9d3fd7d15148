import type { RedisClient } from '@rerank-pool/redis-connection';
import { keys } from './keys.js';

export interface TenantQueuedJobsOptions {
  /** `prefix:queueName` of the queue whose jobs are counted: the sets hang off it, in its cluster slot. */
  queueQualifiedName: string;
  /** An idle tenant's set expires this long after its last reservation. */
  ttlSeconds: number;
  /**
   * A reservation whose job does not exist this long after it was made is dropped by a sweep:
   * its API crashed (or its add failed unseen) between reserving and adding. Default 10000 ms.
   */
  reservationGraceMs?: number;
  /** A tenant at its cap has its set swept at most this often. Default 1000 ms. */
  sweepIntervalMs?: number;
}

/** What a reservation found: whether the job may be added, and the tenant's unstarted jobs with it. */
export interface QueuedJobsReservation {
  admitted: boolean;
  queued: number;
}

const DEFAULTS = { reservationGraceMs: 10_000, sweepIntervalMs: 1000 };

/**
 * Lua function `reserveQueued(set, swept, member, cap, now, graceMs, sweepMs, ttlSeconds)`,
 * returning `admitted (1 or 0), count`: check and reserve in one step, so replicas admitting the
 * same tenant at once cannot both take the last place. Part of the admission script
 * (job-admission.ts). The sweep reads the job hashes it names, which the script cannot declare:
 * they share the queue's hash tag with the set, and so its cluster slot.
 *
 * The sweep is what makes the set heal itself: a job that started (`processedOn`), or no longer
 * exists past the reservation grace (cancelled, removed from the dashboard, or never added by an
 * API that crashed), is dropped. It only runs for a tenant at its cap, at most once per interval,
 * so a tenant hammering a full quota costs Redis one O(cap) pass a second, not one per request.
 */
export const RESERVE_QUEUED_LUA = `
local function reserveQueued(set, swept, member, cap, now, graceMs, sweepMs, ttlSeconds)
  if redis.call('ZSCORE', set, member) then return 1, redis.call('ZCARD', set) end
  local count = redis.call('ZCARD', set)
  if count >= cap and redis.call('SET', swept, '1', 'PX', sweepMs, 'NX') then
    local graceBefore = now - graceMs
    local entries = redis.call('ZRANGE', set, 0, -1, 'WITHSCORES')
    for i = 1, #entries, 2 do
      local job = redis.call('HMGET', entries[i], 'timestamp', 'processedOn')
      if job[2] or (not job[1] and tonumber(entries[i + 1]) < graceBefore) then redis.call('ZREM', set, entries[i]) end
    end
    count = redis.call('ZCARD', set)
  end
  if count >= cap then return 0, count end
  redis.call('ZADD', set, now, member)
  redis.call('EXPIRE', set, ttlSeconds)
  return 1, count + 1
end
`;

/** The keys and arguments of one `reserveQueued` call (see `TenantQueuedJobs.reservation`). */
export interface QueuedJobReservationCall {
  keys: [set: string, swept: string];
  /** member, cap, graceMs, sweepMs, ttlSeconds: `now` is the caller's, shared with the rest of its script. */
  args: [member: string, cap: number, graceMs: number, sweepMs: number, ttlSeconds: number];
}

/**
 * Each tenant's jobs not yet started in one model's queue: the per-tenant cap of admission
 * (TENANT_MAX_QUEUED_JOBS), per model as MAX_QUEUE_DEPTH is. One set over every model would have
 * to be read with other models' job hashes, which a Redis Cluster keeps in other slots. A sorted set per tenant of BullMQ job keys scored by enqueue time:
 * a job is reserved before it is added and leaves the set when a worker picks it up
 * (`releaseQueuedJob`), when it is cancelled, or when its add fails.
 *
 * A set rather than a counter: a counter that misses a decrement (an API killed between reserve
 * and add, a job removed from the dashboard, a worker that dies before its release) stays wrong
 * for good; a set names its jobs, so a sweep can check each one and drop the ones that are gone.
 * Jobs returned to the queue after they started (stalled, handed back, retried after a failure)
 * are not counted again: they were admitted once, and the error is on the generous side.
 */
export class TenantQueuedJobs {
  private readonly options: Required<TenantQueuedJobsOptions>;

  constructor(
    private readonly redis: RedisClient,
    options: TenantQueuedJobsOptions,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** The `reserveQueued` call that reserves a place for `jobKey` (BullMQ's key of the job) unless `tenant` already has `cap` unstarted jobs. */
  reservation(tenant: string, jobKey: string, cap: number): QueuedJobReservationCall {
    const { queueQualifiedName, reservationGraceMs, sweepIntervalMs, ttlSeconds } = this.options;
    return {
      keys: [keys.tenantQueued(queueQualifiedName, tenant), keys.tenantQueuedSwept(queueQualifiedName, tenant)],
      args: [jobKey, cap, reservationGraceMs, sweepIntervalMs, ttlSeconds],
    };
  }

  /** The job left the unstarted jobs other than by a worker: cancelled, or never added. */
  async release(tenant: string, jobKey: string): Promise<void> {
    await releaseQueuedJob(this.redis, this.options.queueQualifiedName, tenant, jobKey);
  }

  /** How many unstarted jobs `tenant` holds now (sweeps aside). */
  count(tenant: string): Promise<number> {
    return this.redis.zcard(keys.tenantQueued(this.options.queueQualifiedName, tenant));
  }
}

/** Takes a job out of its tenant's unstarted jobs (a worker picked it up, or it was cancelled). */
export async function releaseQueuedJob(redis: RedisClient, queueQualifiedName: string, tenant: string, jobKey: string): Promise<void> {
  await redis.zrem(keys.tenantQueued(queueQualifiedName, tenant), jobKey);
}
