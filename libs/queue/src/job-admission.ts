import type { RedisClient } from '@rerank-pool/redis-connection';
import { keys } from './keys.js';
import { ADD_PENDING_PAIRS_LUA } from './pending-pairs.js';
import { RESERVE_QUEUED_LUA } from './tenant-queued-jobs.js';
import type { QueuedJobsReservation, TenantQueuedJobs } from './tenant-queued-jobs.js';

/** One job about to be added, as its admission sees it. */
export interface AdmittedJob {
  jobId: string;
  /** BullMQ's key of the job (`prefix:queueName:jobId`). */
  jobKey: string;
  tenant: string;
  /** (query, document) pairs: its document count. */
  pairs: number;
  /** Its priority class (`interactive`, `batch`). */
  priorityClass: string;
}

export interface AdmitOptions {
  /** The tenant's cap of unstarted jobs (TENANT_MAX_QUEUED_JOBS); 0: none. */
  cap: number;
  /**
   * Hold a refused job's id for this long (see `JobAdmission`), so that an add already sent
   * behind the admission adds nothing. 0, the default: nothing is held.
   */
  holdRefusedMs?: number;
}

/**
 * Everything a job needs before it is added, in one script and so in one round trip, both or
 * neither: its tenant's place (`reserveQueued`, TENANT_MAX_QUEUED_JOBS) and its pending-pairs
 * entry (`addPendingPairs`, the `rerank_queue_pending_pairs` gauge). These were two round trips
 * before the add, each about 0.2 ms of the 1x20 idle request's HTTP + queue overhead.
 *
 * `holdRefusedMs` lets the add go out in the same round trip, sent right behind the admission on
 * the same connection, so Redis runs it second. A refused job's id is then held by a placeholder
 * hash at its job key, and BullMQ's add of an id whose key exists adds nothing (the property
 * idempotency keys rely on). The caller deletes the placeholder once the add has run; the expiry
 * is the backstop. Only for ids nobody else knows (random ones): an idempotency key's id, held,
 * would read as an existing job to a concurrent request with the same key.
 *
 * Sent as EVAL, never EVALSHA: an EVALSHA answered NOSCRIPT (a flushed or evicted script cache)
 * is sent again by ioredis only after the add behind it has run, out of order.
 */
const ADMIT_LUA = `${RESERVE_QUEUED_LUA}${ADD_PENDING_PAIRS_LUA}
local tenantSet, tenantSwept, entries, totals, jobKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local cap, now, hold = tonumber(ARGV[2]), tonumber(ARGV[6]), tonumber(ARGV[10])
local admitted, queued = 1, 0
if cap > 0 then
  admitted, queued = reserveQueued(tenantSet, tenantSwept, ARGV[1], cap, now, tonumber(ARGV[3]), ARGV[4], ARGV[5])
end
if admitted == 0 then
  if hold > 0 and redis.call('EXISTS', jobKey) == 0 then
    redis.call('HSET', jobKey, 'refused', now)
    redis.call('PEXPIRE', jobKey, hold)
  end
  return {0, queued}
end
addPendingPairs(entries, totals, ARGV[7], ARGV[8], ARGV[9], now)
return {1, queued}
`;

/** Deletes a key only while it is a refused job's placeholder: a real job there (it cannot be, its id being random) stays. */
const RELEASE_HELD_LUA = `
if redis.call('HLEN', KEYS[1]) == 1 and redis.call('HEXISTS', KEYS[1], 'refused') == 1 then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** Admission of the jobs of one queue (see `ADMIT_LUA`). */
export class JobAdmission {
  constructor(
    private readonly redis: RedisClient,
    private readonly tenantQueued: TenantQueuedJobs,
    /** `prefix:queueName`, which the pending-pairs keys hang off. */
    private readonly queueQualifiedName: string,
  ) {}

  /**
   * Reserves the job's tenant place (unless `cap` is 0) and counts its pairs as pending. The
   * command is sent before this returns, so a command sent after it on the same connection runs
   * after it in Redis.
   */
  admit(job: AdmittedJob, { cap, holdRefusedMs = 0 }: AdmitOptions): Promise<QueuedJobsReservation> {
    const reservation = this.tenantQueued.reservation(job.tenant, job.jobKey, cap);
    const sent = this.redis.eval(
      ADMIT_LUA,
      5,
      ...reservation.keys,
      keys.pendingPairs(this.queueQualifiedName),
      keys.pendingPairsTotal(this.queueQualifiedName),
      job.jobKey,
      ...reservation.args,
      Date.now(),
      job.jobId,
      Math.max(0, Math.floor(job.pairs)),
      job.priorityClass,
      holdRefusedMs,
    ) as Promise<[number, number]>;
    return sent.then(([admitted, queued]) => ({ admitted: admitted === 1, queued }));
  }

  /** Deletes the placeholder holding a refused job's id, once the add sent behind its admission has run. */
  async releaseHeldId(job: AdmittedJob): Promise<void> {
    await this.redis.eval(RELEASE_HELD_LUA, 1, job.jobKey);
  }
}
