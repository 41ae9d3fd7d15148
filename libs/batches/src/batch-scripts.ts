import type { Result } from 'ioredis';
import type { RedisClient } from '@rerank-pool/redis-connection';
import { SEGMENT_LINES } from './batch-keys.js';

type Arg = string | number | Buffer;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    batchOpenUpload(...args: Arg[]): Result<[string, number], Context>;
    batchCommitPart(...args: Arg[]): Result<number, Context>;
    batchRenewUpload(...args: Arg[]): Result<number, Context>;
    batchSeal(...args: Arg[]): Result<number, Context>;
    batchRelease(...args: Arg[]): Result<number, Context>;
    batchCreateRef(...args: Arg[]): Result<string, Context>;
    batchScan(...args: Arg[]): Result<number, Context>;
    batchFeedBegin(...args: Arg[]): Result<number, Context>;
    batchFeedEnd(...args: Arg[]): Result<number, Context>;
    batchSettle(...args: Arg[]): Result<number, Context>;
    batchFlushCommit(...args: Arg[]): Result<number, Context>;
    batchCancel(...args: Arg[]): Result<[string, number], Context>;
    batchSettleTail(...args: Arg[]): Result<number, Context>;
    batchAdvanceSegment(...args: Arg[]): Result<number, Context>;
    batchFinish(...args: Arg[]): Result<number, Context>;
    batchClaimDriver(...args: Arg[]): Result<number, Context>;
    batchReleaseDriver(...args: Arg[]): Result<number, Context>;
  }
}

/**
 * Every change of a batch's state is one script over its own keys (one hash slot), so counters,
 * bitmap, results and cursors never disagree, whoever applies the change and however many do it
 * at once. Scripts that the driver runs are fenced by its lease token: a process that lost the
 * lease (paused, partitioned) cannot move a cursor or drop results that the new holder owns.
 *
 * A line is settled once: SETBIT on its segment of the settled bitmap returns the previous bit,
 * so only the first settler (a worker, a reconcile, a cancel) writes its result and counts it.
 */
const COMMON = `
local SEG = ${SEGMENT_LINES}
local function num(value) return tonumber(value) or 0 end

local function holds(lease, token)
  return redis.call('GET', lease) == token
end

-- An upload lease nobody holds any more may be continued by the upload that last held it.
local function may_upload(lease, token)
  local holder = redis.call('GET', lease)
  return not holder or holder == token
end

-- Marks the batch settled once its input is complete and every line is accounted for.
local function settled_if_done(meta, now)
  local m = redis.call('HMGET', meta, 'uploaded', 'total', 'completed', 'failed', 'cancelled', 'settled_at')
  if m[1] ~= '1' or m[6] then return end
  if num(m[3]) + num(m[4]) + num(m[5]) >= num(m[2]) then redis.call('HSET', meta, 'settled_at', now) end
end

local function settle(meta, results, flushq, lines, seg, index, bit, outcome, line, pairs)
  if redis.call('SETBIT', seg, bit, 1) == 1 then return 0 end
  redis.call('HSET', results, index, line)
  local info = redis.call('HGET', lines, index)
  redis.call('RPUSH', flushq, index .. ':' .. (info and string.match(info, '^%d+') or 0))
  redis.call('HINCRBY', meta, outcome, 1)
  if outcome == 'completed' then redis.call('HINCRBY', meta, 'pairs_completed', pairs) end
  return 1
end
`;

/** KEYS meta, uploadLease; ARGV tenant, now, token, leaseMs, retentionSeconds, traceJson -> [state, physical lines stored] */
const OPEN_UPLOAD = `${COMMON}
local meta, lease = KEYS[1], KEYS[2]
if redis.call('EXISTS', meta) == 0 then
  redis.call('HSET', meta, 'tenant', ARGV[1], 'created_at', ARGV[2], 'source', 'upload', 'total', 0, 'upload_sessions', '[]')
  if ARGV[6] ~= '' then redis.call('HSET', meta, 'trace', ARGV[6]) end
  -- Until it is sealed an upload expires unless it keeps sending: an abandoned one goes away.
  redis.call('EXPIRE', meta, ARGV[5])
  redis.call('SET', lease, ARGV[3], 'PX', ARGV[4])
  return {'created', 0}
end
local m = redis.call('HMGET', meta, 'tenant', 'uploaded', 'upload_physical', 'source')
if m[1] ~= ARGV[1] then return {'foreign', 0} end
if m[2] == '1' or m[4] ~= 'upload' then return {'sealed', 0} end
if not redis.call('SET', lease, ARGV[3], 'NX', 'PX', ARGV[4]) then return {'busy', redis.call('PTTL', lease)} end
return {'resumed', num(m[3])}
`;

/**
 * Records an input part written to the store. Its name holds the upload's token, so the part
 * list is the list of upload sessions (part number where each began, token): short, whatever
 * the batch's size.
 * KEYS meta, uploadLease; ARGV token, part, lines, physicalLines, leaseMs, retentionSeconds, maxLines
 * -> total lines, or -1 lease lost, -2 batch gone, -3 sealed, -4 not the next part, -5 over maxLines
 */
const COMMIT_PART = `${COMMON}
local meta, lease = KEYS[1], KEYS[2]
if not may_upload(lease, ARGV[1]) then return -1 end
local m = redis.call('HMGET', meta, 'tenant', 'uploaded', 'upload_parts', 'total', 'upload_sessions')
if not m[1] then return -2 end
if m[2] == '1' then return -3 end
local part = tonumber(ARGV[2])
if num(m[3]) ~= part then return -4 end
local total = num(m[4]) + tonumber(ARGV[3])
if total > tonumber(ARGV[7]) then return -5 end
local sessions = cjson.decode(m[5])
local last = sessions[#sessions]
if not last or last[2] ~= ARGV[1] then
  table.insert(sessions, {part, ARGV[1]})
  redis.call('HSET', meta, 'upload_sessions', cjson.encode(sessions))
end
redis.call('HSET', meta, 'upload_parts', part + 1, 'total', total)
redis.call('HINCRBY', meta, 'upload_physical', ARGV[4])
redis.call('SET', lease, ARGV[1], 'PX', ARGV[5])
redis.call('EXPIRE', meta, ARGV[6])
return total
`;

/** KEYS meta, uploadLease; ARGV token, leaseMs, retentionSeconds -> 1 renewed, 0 lost */
const RENEW_UPLOAD = `${COMMON}
local meta, lease = KEYS[1], KEYS[2]
if not may_upload(lease, ARGV[1]) or redis.call('EXISTS', meta) == 0 then return 0 end
redis.call('SET', lease, ARGV[1], 'PX', ARGV[2])
if redis.call('HGET', meta, 'uploaded') ~= '1' then redis.call('EXPIRE', meta, ARGV[3]) end
return 1
`;

/** KEYS meta, uploadLease; ARGV token, now -> 1 sealed, -1 lease lost, -2 gone */
const SEAL = `${COMMON}
local meta, lease = KEYS[1], KEYS[2]
if not may_upload(lease, ARGV[1]) then return -1 end
if redis.call('EXISTS', meta) == 0 then return -2 end
redis.call('HSET', meta, 'uploaded', 1)
redis.call('DEL', lease)
-- A sealed batch lives until it finishes, however long its lines wait for workers.
redis.call('PERSIST', meta)
settled_if_done(meta, ARGV[2])
return 1
`;

/** KEYS uploadLease; ARGV token -> 1 released */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** KEYS meta; ARGV tenant, now, inputUrl, outputUrl, traceJson -> 'created' | 'existing' | 'foreign' */
const CREATE_REF = `${COMMON}
local meta = KEYS[1]
if redis.call('EXISTS', meta) == 1 then
  if redis.call('HGET', meta, 'tenant') ~= ARGV[1] then return 'foreign' end
  return 'existing'
end
redis.call('HSET', meta, 'tenant', ARGV[1], 'created_at', ARGV[2], 'source', 'url', 'input_url', ARGV[3], 'total', 0)
if ARGV[4] ~= '' then redis.call('HSET', meta, 'output_url', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', meta, 'trace', ARGV[5]) end
return 'created'
`;

/**
 * Progress of counting a by-reference input's lines, checkpointed so a new driver continues.
 * KEYS meta, driverLease; ARGV token, offset, physicalLines, lines, done (1|0), now, error ('' or why the input was refused)
 */
const SCAN = `${COMMON}
local meta, driver = KEYS[1], KEYS[2]
if not holds(driver, ARGV[1]) then return -1 end
if redis.call('HGET', meta, 'uploaded') == '1' then return 0 end
redis.call('HSET', meta, 'scan_offset', ARGV[2], 'scan_physical', ARGV[3], 'total', ARGV[4])
if ARGV[5] == '1' then
  redis.call('HSET', meta, 'uploaded', 1)
  if ARGV[7] ~= '' then redis.call('HSET', meta, 'error', ARGV[7], 'total', 0) end
  settled_if_done(meta, ARGV[6])
end
return 1
`;

/**
 * Moves the feed cursor past `count` lines whose jobs are about to be added. The range stays
 * `pending` until FEED_END: a driver that dies in between leaves it for the next one, which adds
 * the jobs again (BullMQ keeps one job per id; settled lines are skipped). Each line's input
 * bytes and id are recorded (the window counts the bytes until its result is flushed); lines
 * rejected by validation are settled here, with their errors.
 * KEYS meta, driverLease, results, flushq, lines, segment;
 * ARGV token, part, offset, physical (the cursor expected), newPart, newOffset, newPhysical,
 *      count, pairs, failuresJson [[index, line]], now, segmentNumber, linesJson ["<bytes>\t<id json>", …]
 * -> first index fed, or -1 lease lost, -2 cancelled or input given up, -3 a feed is pending, -4 cursor moved
 */
const FEED_BEGIN = `${COMMON}
local meta, driver, results, flushq, lines, seg = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
if not holds(driver, ARGV[1]) then return -1 end
local m = redis.call('HMGET', meta, 'cancelled_at', 'tail_from', 'pending_to', 'feed_part', 'feed_offset', 'feed_physical', 'fed')
if m[1] or m[2] then return -2 end
if m[3] then return -3 end
if num(m[4]) ~= tonumber(ARGV[2]) or num(m[5]) ~= tonumber(ARGV[3]) or num(m[6]) ~= tonumber(ARGV[4]) then return -4 end
local from = num(m[7])
local to = from + tonumber(ARGV[8])
redis.call('HSET', meta, 'fed', to, 'feed_part', ARGV[5], 'feed_offset', ARGV[6], 'feed_physical', ARGV[7],
  'pending_from', from, 'pending_to', to, 'pending_part', ARGV[2], 'pending_offset', ARGV[3], 'pending_physical', ARGV[4])
local bytes = 0
for i, info in ipairs(cjson.decode(ARGV[13])) do
  redis.call('HSET', lines, from + i - 1, info)
  bytes = bytes + tonumber(string.match(info, '^%d+'))
end
redis.call('HINCRBY', meta, 'window_bytes', bytes)
redis.call('HINCRBY', meta, 'pairs_total', ARGV[9])
local base = tonumber(ARGV[12]) * SEG
for _, failure in ipairs(cjson.decode(ARGV[10])) do
  settle(meta, results, flushq, lines, seg, failure[1], failure[1] - base, 'failed', failure[2], 0)
end
settled_if_done(meta, ARGV[11])
return from
`;

/** KEYS meta, driverLease; ARGV token, pendingTo -> 1 ended, 0 not pending, -1 lease lost */
const FEED_END = `${COMMON}
local meta, driver = KEYS[1], KEYS[2]
if not holds(driver, ARGV[1]) then return -1 end
if redis.call('HGET', meta, 'pending_to') ~= ARGV[2] then return 0 end
redis.call('HDEL', meta, 'pending_from', 'pending_to', 'pending_part', 'pending_offset', 'pending_physical')
return 1
`;

/**
 * Settles one line: by the worker that computed it, a reconcile, or a cancel. A line of a
 * segment already retired, of a finished batch, or settled before, changes nothing.
 * KEYS meta, results, flushq, lines, segment; ARGV index, bit, segmentNumber, outcome, line, pairs, now
 * -> 1 settled, 0 settled before, -1 batch gone, -2 line not fed
 */
const SETTLE = `${COMMON}
local meta, results, flushq, lines, seg = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local m = redis.call('HMGET', meta, 'tenant', 'seg_done', 'fed', 'finished_at')
if not m[1] then return -1 end
if m[4] or tonumber(ARGV[3]) < num(m[2]) then return 0 end
if tonumber(ARGV[1]) >= num(m[3]) then return -2 end
local settled = settle(meta, results, flushq, lines, seg, ARGV[1], ARGV[2], ARGV[4], ARGV[5], ARGV[6])
if settled == 1 then settled_if_done(meta, ARGV[7]) end
return settled
`;

/**
 * Drops the first `count` flush-queue entries and their results once their part is in the
 * store. Only the lease holder flushes, and entries are only appended, so the head it read is
 * still the head.
 * KEYS meta, driverLease, results, flushq, lines; ARGV token, count, bytes, index... -> next flush sequence, or -1
 */
const FLUSH_COMMIT = `${COMMON}
local meta, driver, results, flushq, lines = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if not holds(driver, ARGV[1]) then return -1 end
redis.call('LTRIM', flushq, ARGV[2], -1)
for i = 4, #ARGV do
  redis.call('HDEL', results, ARGV[i])
  redis.call('HDEL', lines, ARGV[i])
end
redis.call('HINCRBY', meta, 'flushed', ARGV[2])
redis.call('HINCRBY', meta, 'window_bytes', -tonumber(ARGV[3]))
return redis.call('HINCRBY', meta, 'flush_seq', 1)
`;

/**
 * Marks a batch cancelled: nothing more is fed, and the driver (or the caller) cancels the lines
 * not started. A partial upload nobody is sending any more is sealed as it stands.
 * KEYS meta, uploadLease; ARGV now -> ['ok', 0] | ['busy', leaseTtlMs] | ['gone', 0]
 */
const CANCEL = `${COMMON}
local meta, lease = KEYS[1], KEYS[2]
if redis.call('EXISTS', meta) == 0 then return {'gone', 0} end
-- A finished batch has nothing left to cancel and keeps its status.
if redis.call('HEXISTS', meta, 'finished_at') == 1 then return {'ok', 0} end
local m = redis.call('HMGET', meta, 'source', 'uploaded')
if m[1] == 'upload' and m[2] ~= '1' then
  if redis.call('EXISTS', lease) == 1 then return {'busy', redis.call('PTTL', lease)} end
  redis.call('HSET', meta, 'uploaded', 1)
  redis.call('PERSIST', meta)
end
redis.call('HSETNX', meta, 'cancelled_at', ARGV[1])
settled_if_done(meta, ARGV[1])
return {'ok', 0}
`;

/**
 * Settles, in one step, every line never fed (cancelled, or failed when the input could not be
 * read any more). Their results lines are made from the input when the results are written, so
 * a ten-million-line cancel costs nothing here.
 * KEYS meta; ARGV outcome (cancelled|failed), now, error ('' or why) -> lines settled, or -1 not yet possible
 */
const SETTLE_TAIL = `${COMMON}
local meta = KEYS[1]
local m = redis.call('HMGET', meta, 'uploaded', 'pending_to', 'tail_from', 'total', 'fed', 'finished_at')
if m[1] ~= '1' or m[2] then return -1 end
if m[3] or m[6] then return 0 end
local fed = num(m[5])
local count = num(m[4]) - fed
redis.call('HSET', meta, 'tail_from', fed, 'tail_outcome', ARGV[1])
if ARGV[3] ~= '' then redis.call('HSET', meta, 'error', ARGV[3]) end
if count > 0 then redis.call('HINCRBY', meta, ARGV[1], count) end
settled_if_done(meta, ARGV[2])
return count
`;

/** Retires the oldest live segment once all its lines settled. KEYS meta, driverLease, segment; ARGV token, segmentNumber -> 1 | 0 | -1 */
const ADVANCE_SEGMENT = `${COMMON}
local meta, driver, seg = KEYS[1], KEYS[2], KEYS[3]
if not holds(driver, ARGV[1]) then return -1 end
local number = tonumber(ARGV[2])
if num(redis.call('HGET', meta, 'seg_done')) ~= number then return 0 end
if redis.call('BITCOUNT', seg) ~= SEG then return 0 end
redis.call('DEL', seg)
redis.call('HSET', meta, 'seg_done', number + 1)
return 1
`;

/**
 * Finishes a settled batch whose results are written: its Redis state shrinks to the meta hash,
 * kept `retentionSeconds` for status reads.
 * KEYS meta, driverLease, results, flushq, lines, segment...; ARGV token, now, retentionSeconds, resultsRef, error, segmentsEnd
 * -> 1 finished, 0 finished before, -1 lease lost, -2 not settled, -3 results still in Redis
 */
const FINISH = `${COMMON}
local meta, driver, results, flushq = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if not holds(driver, ARGV[1]) then return -1 end
local m = redis.call('HMGET', meta, 'settled_at', 'finished_at')
if m[2] then return 0 end
if not m[1] then return -2 end
if redis.call('LLEN', flushq) > 0 then return -3 end
redis.call('HSET', meta, 'finished_at', ARGV[2], 'results_ref', ARGV[4], 'seg_done', ARGV[6])
if ARGV[5] ~= '' then redis.call('HSET', meta, 'error', ARGV[5]) end
for i = 6, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('DEL', results, flushq, KEYS[5], driver)
redis.call('EXPIRE', meta, ARGV[3])
return 1
`;

/** KEYS driverLease; ARGV token, ttlMs -> 1 held, 0 another process holds it */
const CLAIM_DRIVER = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** Registers the scripts on a client (EVALSHA, loaded on first use). */
export function defineBatchScripts(redis: RedisClient): void {
  const fixed: Record<string, [keys: number, lua: string]> = {
    batchOpenUpload: [2, OPEN_UPLOAD],
    batchCommitPart: [2, COMMIT_PART],
    batchRenewUpload: [2, RENEW_UPLOAD],
    batchSeal: [2, SEAL],
    batchRelease: [1, RELEASE],
    batchCreateRef: [1, CREATE_REF],
    batchScan: [2, SCAN],
    batchFeedBegin: [6, FEED_BEGIN],
    batchFeedEnd: [2, FEED_END],
    batchSettle: [5, SETTLE],
    batchFlushCommit: [5, FLUSH_COMMIT],
    batchCancel: [2, CANCEL],
    batchSettleTail: [1, SETTLE_TAIL],
    batchAdvanceSegment: [3, ADVANCE_SEGMENT],
    batchClaimDriver: [1, CLAIM_DRIVER],
    batchReleaseDriver: [1, RELEASE],
  };
  for (const [name, [numberOfKeys, lua]] of Object.entries(fixed)) redis.defineCommand(name, { numberOfKeys, lua });
  // FINISH takes a variable number of segment keys: the key count is its first argument.
  redis.defineCommand('batchFinish', { lua: FINISH });
}
