import type { RedisClient } from '@rerank-pool/redis-connection';
import { keys } from './keys.js';

/**
 * (query, document) pairs of the jobs not yet started, per model queue and priority class: the
 * work waiting, where job counts say only how many requests wait (one 1,000-document job is 500
 * times the work of a 2-document one). Read at scrape time for `rerank_queue_pending_pairs`,
 * which KEDA scales workers on.
 *
 * Two keys per queue, under its qualified name (`prefix:queueName`, as BullMQ's own keys):
 * - `…:pending-pairs`, a hash of the unstarted jobs, job id -> `pairs:class:addedAtMs`;
 * - `…:pending-pairs-total`, a hash of class -> sum of its entries' pairs.
 * Every change to an entry changes its class's total in the same script, so the total always
 * equals the sum of the present entries and a scrape reads it in O(1), however many batch lines
 * wait. An entry is added (HSETNX) before its job, taken (HDEL) when a worker picks the job up or
 * it is removed while queued; a second take of one job finds nothing and subtracts nothing, so a
 * stalled job picked up again, a retry, or a cancel racing a pick-up cannot count a job twice.
 *
 * What can still drift is an entry never taken: an API killed between the entry and the add, a
 * worker killed between its pick-up and the take, a job removed from the dashboard. `reconcile`
 * heals those: it checks a slice of the entries against their jobs and drops the ones whose job
 * has started (`processedOn`) or does not exist past a grace (the add may still be under way).
 *
 * Jobs returned to the queue after they started (stalled, handed back at shutdown or to free a
 * slot for an interactive job, retried after a failure) are not counted again: the gauge is a lower bound for those seconds, and the
 * job-count trigger (`rerank_queue_jobs`) still sees them.
 *
 * Job keys are built inside the scripts from the qualified name, as BullMQ's scripts do, so a
 * Redis Cluster needs a hash-tagged QUEUE_PREFIX, as BullMQ does anyway.
 */

/**
 * Lua function `addPendingPairs(entries, totals, jobId, pairs, class, addedAtMs)`, returning the
 * pairs added (0 when the job has an entry already). Also part of the admission script
 * (job-admission.ts), which counts a job as it admits it.
 */
export const ADD_PENDING_PAIRS_LUA = `
local function addPendingPairs(entries, totals, jobId, pairs, class, addedAt)
  if redis.call('HSETNX', entries, jobId, pairs .. ':' .. class .. ':' .. addedAt) == 0 then return 0 end
  redis.call('HINCRBY', totals, class, pairs)
  return tonumber(pairs)
end
`;

const ADD_LUA = `${ADD_PENDING_PAIRS_LUA}
local added = 0
for i = 1, #ARGV, 4 do
  added = added + addPendingPairs(KEYS[1], KEYS[2], ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
end
return added
`;

/**
 * Lua function `takePendingPairs(entries, totals, jobId)`, returning the pairs taken (0 when the
 * job has no entry). Also part of the pick-up script (job-pick-up.ts).
 */
export const TAKE_PENDING_PAIRS_LUA = `
local function takePendingPairs(entries, totals, jobId)
  local entry = redis.call('HGET', entries, jobId)
  if not entry then return 0 end
  redis.call('HDEL', entries, jobId)
  local n, class = string.match(entry, '^(%d+):([^:]*):')
  if not n then return 0 end
  redis.call('HINCRBY', totals, class, -tonumber(n))
  return tonumber(n)
end
`;

const TAKE_LUA = `${TAKE_PENDING_PAIRS_LUA}
local taken = 0
for i = 1, #ARGV do
  taken = taken + takePendingPairs(KEYS[1], KEYS[2], ARGV[i])
end
return taken
`;

// One HSCAN step per call, the cursor kept in Redis so that successive calls (any replica) walk
// the whole hash; the step runs at most once per interval (SET NX PX) however many replicas ask.
const RECONCILE_LUA = `
local entries, totals, cursorKey, guard = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local jobPrefix, now, graceMs, intervalMs, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
if not redis.call('SET', guard, '1', 'PX', intervalMs, 'NX') then return -1 end
local cursor = redis.call('GET', cursorKey) or '0'
local step = redis.call('HSCAN', entries, cursor, 'COUNT', count)
local dropped = 0
local found = step[2]
for i = 1, #found, 2 do
  local jobId, entry = found[i], found[i + 1]
  local n, class, addedAt = string.match(entry, '^(%d+):([^:]*):(%d+)$')
  local job = redis.call('HMGET', jobPrefix .. jobId, 'timestamp', 'processedOn')
  if not n then
    redis.call('HDEL', entries, jobId)
  elseif job[2] or (not job[1] and tonumber(addedAt) < now - graceMs) then
    redis.call('HDEL', entries, jobId)
    redis.call('HINCRBY', totals, class, -tonumber(n))
    dropped = dropped + 1
  end
end
if step[1] == '0' then redis.call('DEL', cursorKey) else redis.call('SET', cursorKey, step[1]) end
return dropped
`;

interface PendingPairsCommands {
  rerankPoolAddPendingPairs(entries: string, totals: string, args: (string | number)[]): Promise<number>;
  rerankPoolTakePendingPairs(entries: string, totals: string, jobIds: readonly string[]): Promise<number>;
  rerankPoolReconcilePendingPairs(
    entries: string,
    totals: string,
    cursor: string,
    guard: string,
    jobPrefix: string,
    now: number,
    graceMs: number,
    intervalMs: number,
    count: number,
  ): Promise<number>;
}

/** Defines the scripts on `redis` (once); their pipelines get them too. Array arguments are flattened by ioredis. */
function commands(redis: RedisClient): PendingPairsCommands {
  if (!('rerankPoolAddPendingPairs' in redis)) {
    redis.defineCommand('rerankPoolAddPendingPairs', { numberOfKeys: 2, lua: ADD_LUA });
    redis.defineCommand('rerankPoolTakePendingPairs', { numberOfKeys: 2, lua: TAKE_LUA });
    redis.defineCommand('rerankPoolReconcilePendingPairs', { numberOfKeys: 4, lua: RECONCILE_LUA });
  }
  return redis as unknown as PendingPairsCommands;
}

/** One unstarted job's share of the pending pairs. */
export interface PendingPairsEntry {
  jobId: string;
  /** Its (query, document) pairs: the job's document count. */
  pairs: number;
  /** Its priority class (`interactive`, `batch`, `batch_line`). */
  priorityClass: string;
}

export interface PendingPairsReconcileOptions {
  /** An entry whose job does not exist this long after it was added is dropped. Default 10000 ms. */
  graceMs?: number;
  /** One reconcile step per queue at most this often, over every replica. Default 5000 ms. */
  intervalMs?: number;
  /** Entries checked per step (HSCAN COUNT). Default 1000. */
  count?: number;
}

const RECONCILE_DEFAULTS: Required<PendingPairsReconcileOptions> = { graceMs: 10_000, intervalMs: 5000, count: 1000 };

/** Counts `jobs` as pending in the queue `queueQualifiedName`; returns the pairs added (an entry present already adds none). */
export async function addPendingPairs(redis: RedisClient, queueQualifiedName: string, jobs: readonly PendingPairsEntry[]): Promise<number> {
  if (jobs.length === 0) return 0;
  const now = Date.now();
  const args = jobs.flatMap(({ jobId, pairs, priorityClass }) => [jobId, Math.max(0, Math.floor(pairs)), priorityClass, now]);
  return commands(redis).rerankPoolAddPendingPairs(keys.pendingPairs(queueQualifiedName), keys.pendingPairsTotal(queueQualifiedName), args);
}

/** The jobs left the pending ones (picked up, removed, never added); returns the pairs taken. Idempotent. */
export async function takePendingPairs(redis: RedisClient, queueQualifiedName: string, jobIds: readonly string[]): Promise<number> {
  if (jobIds.length === 0) return 0;
  return commands(redis).rerankPoolTakePendingPairs(keys.pendingPairs(queueQualifiedName), keys.pendingPairsTotal(queueQualifiedName), jobIds);
}

/** Pending pairs per priority class, every class of `classes` present (0 when none wait). */
export async function readPendingPairs(redis: RedisClient, queueQualifiedName: string, classes: readonly string[]): Promise<Record<string, number>> {
  const totals = await redis.hgetall(keys.pendingPairsTotal(queueQualifiedName));
  const read: Record<string, number> = Object.fromEntries(classes.map((name) => [name, 0]));
  // Never below 0: a total can only go negative if its hash was edited by hand.
  for (const [name, value] of Object.entries(totals)) read[name] = Math.max(0, Number(value) || 0);
  return read;
}

/**
 * One reconcile step (see the module comment): drops entries of jobs that started or are gone.
 * Returns the entries dropped, or -1 when another caller ran a step within the interval.
 */
export async function reconcilePendingPairs(redis: RedisClient, queueQualifiedName: string, options: PendingPairsReconcileOptions = {}): Promise<number> {
  const { graceMs, intervalMs, count } = { ...RECONCILE_DEFAULTS, ...options };
  return commands(redis).rerankPoolReconcilePendingPairs(
    keys.pendingPairs(queueQualifiedName),
    keys.pendingPairsTotal(queueQualifiedName),
    keys.pendingPairsCursor(queueQualifiedName),
    keys.pendingPairsReconciled(queueQualifiedName),
    `${queueQualifiedName}:`,
    Date.now(),
    graceMs,
    intervalMs,
    count,
  );
}
