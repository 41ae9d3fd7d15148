import type { RedisClient } from '@rerank-pool/redis-connection';

/**
 * When the job at the head of each priority class was enqueued: what "how long has the oldest
 * job waited" reads, for `rerank_queue_oldest_pending_age_seconds` and its alert.
 *
 * Every rerank job is added with a priority, so unstarted jobs sit in BullMQ's `prioritized`
 * sorted set, scored `priority * 2^32 + insertion counter`: the first member of a priority's
 * score range is the next job of that class a worker takes. One ZRANGEBYSCORE and one HGET per
 * class, in one script, whatever the queue holds (a million batch lines cost the same).
 *
 * The head's `timestamp` is its first enqueue: a job returned to the queue (retry, stalled) joins
 * the tail with its original timestamp, so it can read older than the head until it is taken;
 * the gauge then overstates the wait, never hides one.
 */
const OLDEST_LUA = `
local prioritized, jobPrefix = KEYS[1], ARGV[1]
local out = {}
for i = 2, #ARGV do
  local priority = tonumber(ARGV[i])
  local head = redis.call('ZRANGEBYSCORE', prioritized, priority * 4294967296, (priority + 1) * 4294967296 - 1, 'LIMIT', 0, 1)
  local timestamp = false
  if head[1] then timestamp = redis.call('HGET', jobPrefix .. head[1], 'timestamp') end
  out[#out + 1] = timestamp or ''
end
return out
`;

interface OldestPendingCommands {
  rerankPoolOldestPending(prioritized: string, jobPrefix: string, priorities: readonly number[]): Promise<string[]>;
}

function commands(redis: RedisClient): OldestPendingCommands {
  if (!('rerankPoolOldestPending' in redis)) redis.defineCommand('rerankPoolOldestPending', { numberOfKeys: 1, lua: OLDEST_LUA });
  return redis as unknown as OldestPendingCommands;
}

/**
 * Enqueue time (epoch ms) of the head job of each priority class of the queue `queueQualifiedName`
 * (`prefix:name`, as BullMQ keys it); a class with no job waiting is absent.
 */
export async function readOldestPending(redis: RedisClient, queueQualifiedName: string, classes: Readonly<Record<string, number>>): Promise<Record<string, number>> {
  const names = Object.keys(classes);
  const stamps = await commands(redis).rerankPoolOldestPending(`${queueQualifiedName}:prioritized`, `${queueQualifiedName}:`, Object.values(classes));
  const oldest: Record<string, number> = {};
  names.forEach((name, index) => {
    const stamp = Number(stamps[index]);
    if (stamps[index] !== '' && Number.isFinite(stamp)) oldest[name] = stamp;
  });
  return oldest;
}
