import type { Redis, Result } from 'ioredis';

type Arg = string | number | Buffer;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    batchOpen(...args: Arg[]): Result<[string, number], Context>;
    batchStage(...args: Arg[]): Result<number, Context>;
    batchCommit(...args: Arg[]): Result<number, Context>;
    batchSeal(...args: Arg[]): Result<number, Context>;
    batchRelease(...args: Arg[]): Result<number, Context>;
    batchSettle(...args: Arg[]): Result<number, Context>;
    batchCancel(...args: Arg[]): Result<[string, number], Context>;
  }
}

/**
 * Every script takes the same seven keys, in this order (see `batchKeys`). Each change of a
 * batch's state is one script, so counters, bitmap and results never disagree, whichever API
 * replica (or how many at once) applies it.
 */
export const BATCH_KEY_COUNT = 7;

/**
 * Shared Lua. A line is settled once: SETBIT on the settled bitmap returns the previous bit, so
 * only the first of any number of concurrent settlers writes its result and counts it.
 * `finish_if_done` closes a sealed batch when its last line settles, atomically with that line.
 */
const COMMON = `
local meta, lines, ids, settled, results, lease, running = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]

local function expire_all(seconds)
  for i = 1, 5 do redis.call('EXPIRE', KEYS[i], seconds) end
end

-- While a batch is being uploaded its keys expire together (an abandoned upload goes away).
local function match_ttl()
  local ttl = redis.call('PTTL', meta)
  if ttl > 0 then
    for i = 2, 5 do redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end

local function finish_if_done(now, retention, batch_id)
  local m = redis.call('HMGET', meta, 'uploaded', 'total', 'completed', 'failed', 'cancelled', 'finished_at')
  if m[1] ~= '1' or m[6] then return 0 end
  if tonumber(m[3]) + tonumber(m[4]) + tonumber(m[5]) < tonumber(m[2]) then return 0 end
  redis.call('HSET', meta, 'finished_at', now)
  redis.call('ZREM', running, batch_id)
  expire_all(retention)
  return 1
end

local function holds_lease(token)
  local holder = redis.call('GET', lease)
  return not holder or holder == token
end

-- Why a chunk starting at 'start' may not be appended, or nil when it may.
local function check_append(token, start)
  if not holds_lease(token) then return -1 end
  local m = redis.call('HMGET', meta, 'accepted', 'uploaded')
  if not m[1] then return -2 end
  if m[2] == '1' then return -3 end
  if tonumber(m[1]) ~= start then return -4 end
  return nil
end
`;

/** ARGV: batchId, tenant, now, token, leaseMs, retentionSeconds -> [state, n] */
const OPEN = `${COMMON}
if redis.call('EXISTS', meta) == 0 then
  redis.call('HSET', meta, 'tenant', ARGV[2], 'created_at', ARGV[3], 'accepted', 0, 'uploaded', 0, 'total', 0,
    'completed', 0, 'failed', 0, 'cancelled', 0, 'pairs_total', 0, 'pairs_completed', 0, 'models', '[]')
  redis.call('EXPIRE', meta, ARGV[6])
  redis.call('SET', lease, ARGV[4], 'PX', ARGV[5])
  redis.call('ZADD', running, ARGV[3], ARGV[1])
  return {'created', 0}
end
local m = redis.call('HMGET', meta, 'tenant', 'uploaded', 'accepted')
if m[1] ~= ARGV[2] then return {'foreign', 0} end
if m[2] == '1' then return {'sealed', 0} end
if not redis.call('SET', lease, ARGV[4], 'NX', 'PX', ARGV[5]) then return {'busy', redis.call('PTTL', lease)} end
return {'resumed', tonumber(m[3])}
`;

/**
 * Records a chunk's lines before their jobs are added, so a tracker that sees a line finish (on
 * any replica) always finds its id, and a reconcile always finds its model. Idempotent: a
 * resumed upload stages the same lines again at the same offsets.
 * ARGV: token, start, lineBytes, idsJson, modelsJson, retentionSeconds, leaseMs
 * -> lines staged, or -1 lease lost, -2 batch gone, -3 already sealed, -4 not contiguous.
 */
const STAGE = `${COMMON}
local start = tonumber(ARGV[2])
local refused = check_append(ARGV[1], start)
if refused then return refused end
redis.call('SET', lease, ARGV[1], 'PX', ARGV[7])
redis.call('SETRANGE', lines, start, ARGV[3])
for i, id in ipairs(cjson.decode(ARGV[4])) do redis.call('HSET', ids, start + i - 1, id) end
local staged = start + string.len(ARGV[3])
if staged > tonumber(redis.call('HGET', meta, 'total')) then redis.call('HSET', meta, 'total', staged) end
redis.call('HSET', meta, 'models', ARGV[5])
expire_all(ARGV[6])
return staged
`;

/**
 * Commits a staged chunk once its jobs exist: rejected lines are settled with their errors and
 * `accepted` moves past the chunk (a resumed upload starts there).
 * ARGV: token, start, count, failuresJson, pairs, retentionSeconds, leaseMs -> accepted, or the codes of STAGE.
 */
const COMMIT = `${COMMON}
local start = tonumber(ARGV[2])
local refused = check_append(ARGV[1], start)
if refused then return refused end
redis.call('SET', lease, ARGV[1], 'PX', ARGV[7])
for _, failure in ipairs(cjson.decode(ARGV[4])) do
  if redis.call('SETBIT', settled, failure[1], 1) == 0 then
    redis.call('HSET', results, failure[1], failure[2])
    redis.call('HINCRBY', meta, 'failed', 1)
  end
end
local accepted = start + tonumber(ARGV[3])
redis.call('HSET', meta, 'accepted', accepted)
redis.call('HINCRBY', meta, 'pairs_total', ARGV[5])
expire_all(ARGV[6])
return accepted
`;

/** ARGV: token, now, retentionSeconds, batchId -> 1 finished at once, 0 running, -1 lease lost, -2 gone */
const SEAL = `${COMMON}
if not holds_lease(ARGV[1]) then return -1 end
if redis.call('EXISTS', meta) == 0 then return -2 end
redis.call('HSET', meta, 'uploaded', 1, 'total', redis.call('HGET', meta, 'accepted'))
redis.call('DEL', lease)
-- A sealed batch lives until it finishes, however long its lines wait for workers.
for i = 1, 5 do redis.call('PERSIST', KEYS[i]) end
return finish_if_done(ARGV[2], ARGV[3], ARGV[4])
`;

/** ARGV: token -> 1 released */
const RELEASE = `
if redis.call('GET', KEYS[6]) == ARGV[1] then return redis.call('DEL', KEYS[6]) end
return 0
`;

/** ARGV: index, outcome (completed|failed|cancelled), lineJson, pairs, now, retentionSeconds, batchId -> 1 settled, 0 already, -1 gone */
const SETTLE = `${COMMON}
if redis.call('EXISTS', meta) == 0 then return -1 end
if redis.call('SETBIT', settled, ARGV[1], 1) == 1 then return 0 end
redis.call('HSET', results, ARGV[1], ARGV[3])
redis.call('HINCRBY', meta, ARGV[2], 1)
if ARGV[2] == 'completed' then redis.call('HINCRBY', meta, 'pairs_completed', ARGV[4]) end
match_ttl()
finish_if_done(ARGV[5], ARGV[6], ARGV[7])
return 1
`;

/**
 * ARGV: now, retentionSeconds, batchId -> ['ok', 0] | ['busy', leaseTtlMs] | ['gone', 0].
 * Marks the batch cancelled; a partial upload nobody is sending any more is sealed as it stands,
 * staged lines included (the cancel settles those whose jobs never came).
 */
const CANCEL = `${COMMON}
if redis.call('EXISTS', meta) == 0 then return {'gone', 0} end
-- A finished batch has nothing left to cancel and keeps its status.
if redis.call('HEXISTS', meta, 'finished_at') == 1 then return {'ok', 0} end
if redis.call('EXISTS', lease) == 1 then return {'busy', redis.call('PTTL', lease)} end
if redis.call('HGET', meta, 'uploaded') ~= '1' then
  redis.call('HSET', meta, 'uploaded', 1)
  for i = 1, 5 do redis.call('PERSIST', KEYS[i]) end
end
redis.call('HSETNX', meta, 'cancelled_at', ARGV[1])
finish_if_done(ARGV[1], ARGV[2], ARGV[3])
return {'ok', 0}
`;

/** Registers the scripts on a client (EVALSHA, loaded on first use). */
export function defineBatchScripts(redis: Redis): void {
  const scripts = { batchOpen: OPEN, batchStage: STAGE, batchCommit: COMMIT, batchSeal: SEAL, batchRelease: RELEASE, batchSettle: SETTLE, batchCancel: CANCEL };
  for (const [name, lua] of Object.entries(scripts)) redis.defineCommand(name, { numberOfKeys: BATCH_KEY_COUNT, lua });
}
