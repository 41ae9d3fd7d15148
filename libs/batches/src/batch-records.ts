import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '@rerank-pool/redis-connection';
import { batchIndexKeys, batchKeys, SEGMENT_LINES, segmentOf } from './batch-keys.js';
import type { BatchKeys } from './batch-keys.js';
import { defineBatchScripts } from './batch-scripts.js';
import { batchStateOf } from './batch-state.js';
import type { BatchState, InputCursor, LineOutcome } from './batch-state.js';

/** One line's final result: its results line (NDJSON text) and what it counts. */
export interface Settlement {
  index: number;
  outcome: LineOutcome;
  line: string;
  /** Pairs scored (completed lines only). */
  pairs: number;
}

/** A flush-queue entry: a settled line whose results line is still in Redis. */
export interface FlushEntry {
  index: number;
  bytes: number;
}

export interface FeedChunk {
  /** Each line's input bytes and id, in order. */
  lines: { bytes: number; id: string | number }[];
  pairs: number;
  /** Lines rejected by validation, settled with the feed: [index, results line]. */
  failures: [number, string][];
}

/** Pipeline results, throwing the first command error (ioredis reports them per command). */
export async function execOrThrow(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/**
 * The Redis side of batches: typed calls of the batch scripts and the reads around them. Knows
 * nothing of BullMQ or the object store.
 */
export class BatchRecords {
  private readonly index: { active: string; expiring: string };

  constructor(
    readonly redis: RedisClient,
    readonly prefix: string,
  ) {
    defineBatchScripts(redis);
    this.index = batchIndexKeys(prefix);
  }

  keys(batchId: string): BatchKeys {
    return batchKeys(this.prefix, batchId);
  }

  async read(batchId: string): Promise<BatchState | undefined> {
    const hash = await this.redis.hgetall(this.keys(batchId).meta);
    return hash.tenant === undefined ? undefined : batchStateOf(batchId, hash);
  }

  // -- uploads ------------------------------------------------------------------------------

  async openUpload(
    batchId: string,
    args: { tenant: string; token: string; leaseMs: number; retentionSeconds: number; trace?: Record<string, string> },
  ): Promise<{ state: string; value: number }> {
    const k = this.keys(batchId);
    const trace = args.trace ? JSON.stringify(args.trace) : '';
    const [state, value] = await this.redis.batchOpenUpload(k.meta, k.uploadLease, args.tenant, Date.now(), args.token, args.leaseMs, args.retentionSeconds, trace);
    return { state, value };
  }

  commitPart(batchId: string, token: string, part: { number: number; lines: number; physical: number }, limits: { leaseMs: number; retentionSeconds: number; maxLines: number }): Promise<number> {
    const k = this.keys(batchId);
    return this.redis.batchCommitPart(k.meta, k.uploadLease, token, part.number, part.lines, part.physical, limits.leaseMs, limits.retentionSeconds, limits.maxLines);
  }

  async renewUpload(batchId: string, token: string, leaseMs: number, retentionSeconds: number): Promise<boolean> {
    const k = this.keys(batchId);
    return (await this.redis.batchRenewUpload(k.meta, k.uploadLease, token, leaseMs, retentionSeconds)) === 1;
  }

  seal(batchId: string, token: string): Promise<number> {
    const k = this.keys(batchId);
    return this.redis.batchSeal(k.meta, k.uploadLease, token, Date.now());
  }

  async releaseUpload(batchId: string, token: string): Promise<void> {
    await this.redis.batchRelease(this.keys(batchId).uploadLease, token);
  }

  // -- by reference --------------------------------------------------------------------------

  createRef(batchId: string, args: { tenant: string; inputUrl: string; outputUrl?: string; trace?: Record<string, string> }): Promise<string> {
    const trace = args.trace ? JSON.stringify(args.trace) : '';
    return this.redis.batchCreateRef(this.keys(batchId).meta, args.tenant, Date.now(), args.inputUrl, args.outputUrl ?? '', trace);
  }

  scanProgress(batchId: string, token: string, progress: { offset: number; physical: number; lines: number; done: boolean; error?: string }): Promise<number> {
    const k = this.keys(batchId);
    return this.redis.batchScan(k.meta, k.driverLease, token, progress.offset, progress.physical, progress.lines, progress.done ? 1 : 0, Date.now(), progress.error ?? '');
  }

  // -- feeding and settling -----------------------------------------------------------------

  /** The chunk must not cross a bitmap segment (its rejected lines are settled in one). */
  feedBegin(batchId: string, token: string, from: InputCursor, to: InputCursor, firstIndex: number, chunk: FeedChunk): Promise<number> {
    const k = this.keys(batchId);
    const segment = segmentOf(firstIndex);
    return this.redis.batchFeedBegin(
      k.meta,
      k.driverLease,
      k.results,
      k.flushQueue,
      k.lines,
      k.segment(segment),
      token,
      from.part,
      from.offset,
      from.physical,
      to.part,
      to.offset,
      to.physical,
      chunk.lines.length,
      chunk.pairs,
      JSON.stringify(chunk.failures),
      Date.now(),
      segment,
      JSON.stringify(chunk.lines.map((line) => `${line.bytes}\t${JSON.stringify(line.id)}`)),
    );
  }

  feedEnd(batchId: string, token: string, pendingTo: number): Promise<number> {
    const k = this.keys(batchId);
    return this.redis.batchFeedEnd(k.meta, k.driverLease, token, pendingTo);
  }

  /** 1 when this call settled the line, 0 when it was settled before (or the batch is gone or finished). */
  settle(batchId: string, settlement: Settlement): Promise<number> {
    return this.redis.batchSettle(...this.settleArgs(batchId, settlement));
  }

  /** Settles many lines in one round trip. */
  async settleMany(batchId: string, settlements: readonly Settlement[]): Promise<void> {
    if (settlements.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const settlement of settlements) pipeline.batchSettle(...this.settleArgs(batchId, settlement));
    await execOrThrow(pipeline);
  }

  private settleArgs(batchId: string, { index, outcome, line, pairs }: Settlement): (string | number)[] {
    const k = this.keys(batchId);
    const segment = segmentOf(index);
    return [k.meta, k.results, k.flushQueue, k.lines, k.segment(segment), index, index - segment * SEGMENT_LINES, segment, outcome, line, pairs, Date.now()];
  }

  /** The bits of one settled-bitmap segment (read with GET: Redis numbers bits from the high end). */
  async segmentBits(batchId: string, segment: number): Promise<Buffer> {
    return (await this.redis.getBuffer(this.keys(batchId).segment(segment))) ?? Buffer.alloc(0);
  }

  /** Which lines in [from, to) are not settled, read from the live segments (lines of retired segments all are). */
  async unsettledIn(batchId: string, state: Pick<BatchState, 'segmentsDone'>, from: number, to: number): Promise<number[]> {
    const unsettled: number[] = [];
    const start = Math.max(from, state.segmentsDone * SEGMENT_LINES);
    for (let segment = segmentOf(start); segment * SEGMENT_LINES < to; segment++) {
      const bits = await this.segmentBits(batchId, segment);
      const first = Math.max(start, segment * SEGMENT_LINES);
      const last = Math.min(to, (segment + 1) * SEGMENT_LINES);
      for (let index = first; index < last; index++) if (!bitIsSet(bits, index - segment * SEGMENT_LINES)) unsettled.push(index);
    }
    return unsettled;
  }

  advanceSegment(batchId: string, token: string, segment: number): Promise<number> {
    const k = this.keys(batchId);
    return this.redis.batchAdvanceSegment(k.meta, k.driverLease, k.segment(segment), token, segment);
  }

  // -- flushing ------------------------------------------------------------------------------

  async flushHead(batchId: string, max: number): Promise<FlushEntry[]> {
    const entries = await this.redis.lrange(this.keys(batchId).flushQueue, 0, max - 1);
    return entries.map((entry) => {
      const colon = entry.indexOf(':');
      return { index: Number(entry.slice(0, colon)), bytes: Number(entry.slice(colon + 1)) };
    });
  }

  /** The ids of fed lines not yet flushed (null for a line the window does not hold). */
  async lineIds(batchId: string, indexes: readonly number[]): Promise<(string | number | null)[]> {
    if (indexes.length === 0) return [];
    const infos = await this.redis.hmget(this.keys(batchId).lines, ...indexes.map(String));
    return infos.map((info) => (info === null ? null : (JSON.parse(info.slice(info.indexOf('\t') + 1)) as string | number)));
  }

  async resultLines(batchId: string, indexes: readonly number[]): Promise<(string | null)[]> {
    if (indexes.length === 0) return [];
    return this.redis.hmget(this.keys(batchId).results, ...indexes.map(String));
  }

  flushCommit(batchId: string, token: string, entries: readonly FlushEntry[]): Promise<number> {
    const k = this.keys(batchId);
    const bytes = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    return this.redis.batchFlushCommit(k.meta, k.driverLease, k.results, k.flushQueue, k.lines, token, entries.length, bytes, ...entries.map((entry) => entry.index));
  }

  // -- cancel, tail, finish ------------------------------------------------------------------

  async cancel(batchId: string): Promise<{ state: string; value: number }> {
    const k = this.keys(batchId);
    const [state, value] = await this.redis.batchCancel(k.meta, k.uploadLease, Date.now());
    return { state, value };
  }

  /** Settles every line never fed with `outcome`; -1 while the input is not complete or a feed is pending. */
  settleTail(batchId: string, outcome: 'cancelled' | 'failed', error?: string): Promise<number> {
    return this.redis.batchSettleTail(this.keys(batchId).meta, outcome, Date.now(), error ?? '');
  }

  finish(batchId: string, token: string, args: { resultsRef: string; error?: string; retentionSeconds: number; state: BatchState }): Promise<number> {
    const k = this.keys(batchId);
    const segmentsEnd = Math.max(args.state.segmentsDone, Math.ceil(args.state.total / SEGMENT_LINES));
    const segments: string[] = [];
    for (let segment = args.state.segmentsDone; segment < segmentsEnd; segment++) segments.push(k.segment(segment));
    const keys = [k.meta, k.driverLease, k.results, k.flushQueue, k.lines, ...segments];
    return this.redis.batchFinish(keys.length, ...keys, token, Date.now(), args.retentionSeconds, args.resultsRef, args.error ?? '', segmentsEnd);
  }

  /** Removes every Redis key of a batch (a rejected upload leaves nothing behind). */
  async discard(batchId: string, totalLines: number): Promise<void> {
    const k = this.keys(batchId);
    const segments = Array.from({ length: Math.ceil(totalLines / SEGMENT_LINES) + 1 }, (_, n) => k.segment(n));
    await this.redis.del(k.meta, k.results, k.flushQueue, k.lines, k.uploadLease, k.driverLease, ...segments);
    await this.removeActive(batchId);
  }

  // -- driving ---------------------------------------------------------------------------------

  async claimDriver(batchId: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.batchClaimDriver(this.keys(batchId).driverLease, token, ttlMs)) === 1;
  }

  async releaseDriver(batchId: string, token: string): Promise<void> {
    await this.redis.batchReleaseDriver(this.keys(batchId).driverLease, token);
  }

  async addActive(batchId: string): Promise<void> {
    await this.redis.zadd(this.index.active, 'NX', Date.now(), batchId);
  }

  async removeActive(batchId: string): Promise<void> {
    await this.redis.zrem(this.index.active, batchId);
  }

  /** Batches that need a driver, oldest first; the first `limit` of them when given. */
  activeIds(limit?: number): Promise<string[]> {
    return this.redis.zrange(this.index.active, 0, limit === undefined ? -1 : limit - 1);
  }

  /** After `at` (epoch ms) the batch's files in the store may go, unless the batch is still alive then. */
  async scheduleExpiry(batchId: string, at: number): Promise<void> {
    await this.redis.zadd(this.index.expiring, at, batchId);
  }

  dueExpiries(now: number, max: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.index.expiring, '-inf', now, 'LIMIT', 0, max);
  }

  async forgetExpiry(batchId: string): Promise<void> {
    await this.redis.zrem(this.index.expiring, batchId);
  }

  /** Milliseconds until the batch's meta expires: -1 kept for good, -2 gone. */
  metaTtlMs(batchId: string): Promise<number> {
    return this.redis.pttl(this.keys(batchId).meta);
  }
}

/** True when bit `bit` of a Redis bitmap (read with GET) is set; Redis numbers bits from the high end. */
function bitIsSet(bitmap: Buffer, bit: number): boolean {
  const byte = bit >> 3;
  return byte < bitmap.length && (bitmap[byte]! & (0x80 >> (bit & 7))) !== 0;
}
