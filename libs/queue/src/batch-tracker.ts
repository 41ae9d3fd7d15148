import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { Errors } from '@rerank-pool/contracts';
import { lineJobId, parseLineJobId } from './batch-ids.js';
import { LINE_JOB_FIELDS, errorLine, settlementFromJob } from './batch-line-result.js';
import { execOrThrow } from './batch-store.js';
import type { BatchStore, Settlement } from './batch-store.js';
import { queueNameForModel } from './queue-name.js';

export interface BatchTrackerEvents {
  /** A failed read or write; the tracker waits a moment and carries on from its cursor. */
  error: [error: Error];
}

type StreamEntry = [id: string, fields: string[]];

/** Settles this many lines per round trip. */
const CHUNK = 500;
const EVENTS_PER_READ = 2000;
const RETRY_DELAY_MS = 1000;
/**
 * The shared cursor only tells a restarted tracker where to resume; a cursor up to this old
 * replays a few events (settling is idempotent) or costs a reconcile, never a lost line. Saving
 * it on every wake-up was one extra round trip per job event under online traffic.
 */
const CURSOR_SAVE_INTERVAL_MS = 1000;
/**
 * With no batch running anywhere the tracker does not read the streams at all: under online
 * traffic every job event would wake it for nothing. It asks whether a batch runs this often.
 */
const IDLE_CHECK_INTERVAL_MS = 1000;

function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(Number) as [number, number];
  const [bMs, bSeq] = b.split('-').map(Number) as [number, number];
  return aMs - bMs || aSeq - bSeq;
}

function field(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length - 1; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/**
 * Keeps batch counters and results up to date as lines finish, from the API side, without the
 * worker knowing batches exist. Correct across restarts and any number of API replicas:
 *
 * - Source: each model queue's BullMQ event stream (`completed` and `failed` are written by the
 *   same script that finishes the job, and `failed` only once retries are exhausted).
 * - Idempotence: a line is settled by one script that sets its bit in the batch's settled
 *   bitmap and counts it only if the bit was clear. Every replica follows every stream, and
 *   whoever comes first settles; the others find the bit set.
 * - Restarts: the last applied stream id is kept in Redis (moved forward only), so a restarted
 *   tracker continues where the fleet left off.
 * - Gaps: BullMQ trims its streams (about 10,000 events). When entries past the cursor may have
 *   been trimmed (see `hasGap`), or there is no cursor yet, the tracker reconciles:
 *   it reads the state of every unsettled line of every running batch from its job. Reading
 *   states after the gap is detected sees every outcome the lost events carried.
 *
 * - Idle: while no batch runs anywhere the streams are not read (see IDLE_CHECK_INTERVAL_MS);
 *   the cursors kept meanwhile are checked for a gap like any other when a batch starts.
 *
 * Settling copies the line's final results line into the batch, then removes the job, so a
 * batch's results live exactly as long as the batch and its documents leave Redis early.
 */
export class BatchTracker extends EventEmitter<BatchTrackerEvents> {
  private readonly blocking: Redis;
  /** Queues followed, by BullMQ events stream key. */
  private readonly streams: Map<string, Queue>;
  private running?: Promise<void>;
  private closed = false;
  private idleWait?: AbortController;

  constructor(
    private readonly store: BatchStore,
    queues: readonly Queue[],
    connection: RedisOptions,
    private readonly blockMs: number,
  ) {
    super();
    this.streams = new Map(queues.map((queue) => [queue.keys.events, queue]));
    this.blocking = new Redis({ ...connection, lazyConnect: true });
    this.blocking.on('error', () => {});
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Ends an idle wait now: a batch was just opened here. */
  wake(): void {
    this.idleWait?.abort();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    // Cuts the blocking read short instead of waiting out its timeout.
    this.blocking.disconnect();
    await this.running;
  }

  /** Settles every finished line of every running batch from its job: the cure for a gap. */
  async reconcile(): Promise<void> {
    for (const batchId of await this.store.runningBatches()) {
      if (this.closed) return;
      const state = await this.store.read(batchId);
      if (!state) {
        await this.store.forgetRunning(batchId);
        continue;
      }
      for (const [model, indexes] of await this.store.unsettledByModel(batchId)) {
        const queue = this.queueForModel(state.models[model - 1]!);
        if (!queue) continue;
        // A line without a job was settled meanwhile (the settle script then ignores this), was
        // removed by a cancel, is staged by an upload that has not added it yet, or expired unseen.
        const missing = (id: unknown, index: number): Settlement | undefined => {
          if (state.cancelledAt !== undefined) return { index, outcome: 'cancelled', line: errorLine(id, index, Errors.lineCancelled(batchId)), pairs: 0 };
          if (index >= state.accepted) return undefined;
          const lost = Errors.internal(`the job of line ${index} expired before its result was recorded`);
          return { index, outcome: 'failed', line: errorLine(id, index, lost), pairs: 0 };
        };
        for (let i = 0; i < indexes.length; i += CHUNK) await this.settleLines(queue, batchId, indexes.slice(i, i + CHUNK), missing);
      }
    }
  }

  private async loop(): Promise<void> {
    let cursors: Map<string, string> | undefined;
    const savedAt = new Map<string, number>();
    let active = false;
    let checkedAt = 0;
    while (!this.closed) {
      try {
        if (Date.now() - checkedAt >= IDLE_CHECK_INTERVAL_MS) {
          active = await this.store.hasRunningBatches();
          checkedAt = Date.now();
        }
        if (!active) {
          await this.idle();
          // Woken or not, ask again: the cursors kept meanwhile are checked for a gap below.
          checkedAt = 0;
          continue;
        }
        cursors ??= await this.startingCursors();
        if (await this.hasGap(cursors)) await this.reconcile();
        const streamKeys = [...cursors.keys()];
        const reply = (await this.blocking.xread(
          'COUNT',
          EVENTS_PER_READ,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          ...streamKeys,
          ...streamKeys.map((key) => cursors!.get(key)!),
        )) as [string, StreamEntry[]][] | null;
        for (const [streamKey, entries] of reply ?? []) {
          const queue = this.streams.get(streamKey)!;
          await this.apply(queue, entries);
          const last = entries[entries.length - 1]![0];
          cursors.set(streamKey, last);
          if (Date.now() - (savedAt.get(streamKey) ?? 0) >= CURSOR_SAVE_INTERVAL_MS) {
            await this.store.saveTrackerCursor(queue.name, last);
            savedAt.set(streamKey, Date.now());
          }
        }
      } catch (error) {
        if (this.closed) break;
        this.emit('error', error as Error);
        await sleep(RETRY_DELAY_MS, undefined, { ref: false });
      }
    }
  }

  private async idle(): Promise<void> {
    this.idleWait = new AbortController();
    try {
      await sleep(IDLE_CHECK_INTERVAL_MS, undefined, { ref: false, signal: this.idleWait.signal });
    } catch {
      // Woken early by `wake` or `close`.
    } finally {
      this.idleWait = undefined;
    }
  }

  /**
   * Shared cursors. A queue without one starts at its stream's current end, read before a
   * reconcile covers everything earlier; the cursor is then saved so later gaps are detectable.
   */
  private async startingCursors(): Promise<Map<string, string>> {
    const cursors = new Map<string, string>();
    const fresh: [Queue, string][] = [];
    for (const [streamKey, queue] of this.streams) {
      const saved = await this.store.trackerCursor(queue.name);
      const cursor = saved ?? (await this.streamInfo(streamKey)).lastId;
      if (saved === undefined) fresh.push([queue, cursor]);
      cursors.set(streamKey, cursor);
    }
    if (fresh.length > 0) {
      await this.reconcile();
      for (const [queue, cursor] of fresh) await this.store.saveTrackerCursor(queue.name, cursor);
    }
    return cursors;
  }

  /**
   * True when events after a cursor may have been trimmed. BullMQ trims the oldest entries, so
   * that happened when the stream's first entry lies past the cursor while newer events exist.
   * Redis 7's `entries-added` rules out streams that never lost an entry. (`max-deleted-entry-id`
   * would be exact, but XTRIM does not maintain it.) A false alarm only costs a reconcile.
   */
  private async hasGap(cursors: ReadonlyMap<string, string>): Promise<boolean> {
    // Every stream asked at once: one round trip per wake-up, however many models.
    const streams = await Promise.all([...cursors].map(async ([streamKey, cursor]) => ({ cursor, info: await this.streamInfo(streamKey) })));
    return streams.some(({ cursor, info }) => {
      if (info.entriesAdded !== undefined && info.entriesAdded <= info.length) return false;
      if (compareStreamIds(info.lastId, cursor) <= 0) return false;
      return info.firstId === undefined || compareStreamIds(info.firstId, cursor) > 0;
    });
  }

  private async streamInfo(streamKey: string): Promise<{ length: number; entriesAdded?: number; lastId: string; firstId?: string }> {
    const info = (await this.store.redis.xinfo('STREAM', streamKey).catch((error: Error) => {
      if (/no such key/i.test(error.message)) return [];
      throw error;
    })) as unknown[];
    const get = (name: string): unknown => {
      const at = info.indexOf(name);
      return at >= 0 ? info[at + 1] : undefined;
    };
    const entriesAdded = get('entries-added');
    const firstEntry = get('first-entry') as [string, string[]] | null | undefined;
    return {
      length: Number(get('length') ?? 0),
      entriesAdded: entriesAdded === undefined ? undefined : Number(entriesAdded),
      lastId: String(get('last-generated-id') ?? '0-0'),
      firstId: firstEntry ? firstEntry[0] : undefined,
    };
  }

  private async apply(queue: Queue, entries: readonly StreamEntry[]): Promise<void> {
    const byBatch = new Map<string, number[]>();
    for (const [, fields] of entries) {
      const event = field(fields, 'event');
      if (event !== 'completed' && event !== 'failed') continue;
      const line = parseLineJobId(field(fields, 'jobId') ?? '');
      if (!line) continue;
      const indexes = byBatch.get(line.batchId) ?? [];
      indexes.push(line.index);
      byBatch.set(line.batchId, indexes);
    }
    for (const [batchId, indexes] of byBatch) {
      for (let i = 0; i < indexes.length; i += CHUNK) await this.settleLines(queue, batchId, indexes.slice(i, i + CHUNK));
    }
  }

  /**
   * Settles the finished ones among `indexes` from their jobs, then removes those jobs. A
   * missing job is settled with `missing`, or skipped when none is given (an event's job that
   * is gone was settled by another replica, or removed by a cancel that settles it itself).
   */
  private async settleLines(
    queue: Queue,
    batchId: string,
    indexes: readonly number[],
    missing?: (id: unknown, index: number) => Settlement | undefined,
  ): Promise<void> {
    const open = await this.store.unsettled(batchId, indexes);
    if (open.length === 0) return;
    const jobIds = open.map((index) => lineJobId(batchId, index));
    const pipeline = this.store.redis.pipeline();
    for (const jobId of jobIds) pipeline.hmget(queue.toKey(jobId), ...LINE_JOB_FIELDS);
    const [jobs, ids] = await Promise.all([execOrThrow(pipeline) as Promise<(string | null)[][]>, this.store.lineIds(batchId, open)]);
    const settlements: Settlement[] = [];
    const finishedJobs: string[] = [];
    open.forEach((index, i) => {
      const fields = jobs[i]!;
      if (fields.every((value) => value === null)) {
        const settlement = missing?.(JSON.parse(ids[i] ?? 'null'), index);
        if (settlement) settlements.push(settlement);
        return;
      }
      const settlement = settlementFromJob(jobIds[i]!, index, ids[i] ?? null, fields);
      if (!settlement) return;
      settlements.push(settlement);
      finishedJobs.push(jobIds[i]!);
    });
    await this.store.settle(batchId, settlements);
    await Promise.all(finishedJobs.map((jobId) => queue.remove(jobId)));
  }

  private queueForModel(model: string): Queue | undefined {
    const name = queueNameForModel(model);
    for (const queue of this.streams.values()) if (queue.name === name) return queue;
    return undefined;
  }
}
