import { QueueEvents } from 'bullmq';
import type { Queue } from 'bullmq';
import { bullConnection, closeRedis, openRedis } from '@rerank-pool/redis-connection';
import type { BullConnection, RedisClient, RedisTarget } from '@rerank-pool/redis-connection';
import { Errors, decodeJobFailure, parseRerankJobResult } from '@rerank-pool/contracts';
import type { RerankJobResult } from '@rerank-pool/contracts';
import { closeQueue } from './close-queue.js';
import { redisUnavailable } from './redis-unavailable.js';
import { newReplyChannel, parseResultReply } from './result-reply.js';
import { within } from './within.js';

/** Opening the event stream waits at most this for Redis; then the request is answered 503. */
const OPEN_TIMEOUT_MS = 2000;

export interface ResultWaiterOptions {
  connection: RedisTarget;
  prefix: string;
  /**
   * Waits still pending this long after the event connection dropped are answered `unavailable`
   * (their jobs may still finish: the client can poll them). A shorter blip goes unnoticed:
   * events resume where they stopped.
   */
  outageGraceMs: number;
}

interface OpenEvents {
  events: QueueEvents;
  /** Subscribed to `replyTo`: results workers publish ahead of their completion events. */
  replies: RedisClient;
  /** What `events` was opened from; ended after it. */
  connection: BullConnection;
  /** The ioredis client QueueEvents reads with, for its connection state. */
  client: { status: string };
}

interface Waiter {
  documentCount: number;
  resolve(result: RerankJobResult): void;
  reject(error: Error): void;
}

/**
 * Waits for job results over one QueueEvents (one blocking connection) per queue, however many
 * requests wait, and one subscription to `replyTo`, where workers publish the results of jobs
 * that name it before BullMQ records them (the fast path; see `publishResult`). The first of the
 * two to bring a job's result answers; the events alone are enough, and race-free by construction:
 * - QueueEvents starts reading right after the stream's last entry at creation, not at '$' when
 *   its loop happens to start, so no event emitted after creation is missed;
 * - each wait registers first and then reads the job once, so a job that finished before the
 *   waiter existed is answered from Redis. A job added after `listen()` resolved needs no read.
 * While the event connection is down no wait can end well, so none is left hanging: see
 * `outageGraceMs`.
 */
export class ResultWaiter {
  private events?: Promise<OpenEvents>;
  private opened?: OpenEvents;
  private outageTimer?: NodeJS.Timeout;
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** The channel jobs name as `replyTo` for their results to reach this waiter first. */
  readonly replyTo: string;

  constructor(
    private readonly queue: Queue,
    private readonly redis: RedisClient,
    private readonly options: ResultWaiterOptions,
  ) {
    this.replyTo = newReplyChannel(options.prefix, queue.name);
  }

  /** False while the event connection, once opened, is not connected. */
  get connected(): boolean {
    return this.opened === undefined || this.opened.client.status === 'ready';
  }

  /** Resolves once events are being followed: a job added after that cannot finish unseen. */
  async listen(): Promise<void> {
    await this.start();
  }

  /**
   * `readBack: false` skips reading the job once, for a job added after `listen()` resolved;
   * `reportedTimeoutMs` is the timeout a `timeout` error names (the request's, of which `timeoutMs` is what is left);
   * an aborted `signal` (the waiting client went away) ends the wait with `cancelled`; the job goes on.
   */
  async wait(
    jobId: string,
    documentCount: number,
    timeoutMs: number,
    { readBack = true, reportedTimeoutMs = timeoutMs, signal }: { readBack?: boolean; reportedTimeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<RerankJobResult> {
    await this.start();
    if (!this.connected) throw redisUnavailable(`the result of job ${jobId} cannot be followed`, { jobId });
    return new Promise<RerankJobResult>((resolve, reject) => {
      let settled = false;
      const onAbort = () => waiter.reject(Errors.clientGone(jobId));
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.remove(jobId, waiter);
        finish();
      };
      const waiter: Waiter = {
        documentCount,
        resolve: (result) => settle(() => resolve(result)),
        reject: (error) => settle(() => reject(error)),
      };
      const timer = setTimeout(() => waiter.reject(Errors.timeout(jobId, reportedTimeoutMs)), timeoutMs);
      timer.unref();
      this.add(jobId, waiter);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      if (readBack) this.checkFinished(jobId, waiter).catch(waiter.reject);
    });
  }

  /** Answers every pending wait with `error(jobId)` (shutdown, outage); their jobs go on. */
  abandonAll(error: (jobId: string) => Error): void {
    for (const [jobId, waiters] of [...this.waiters]) {
      for (const waiter of [...waiters]) waiter.reject(error(jobId));
    }
  }

  /** Rejects every pending wait, then closes the QueueEvents connection (bounded: Redis may be gone). */
  async close(): Promise<void> {
    this.abandonAll((jobId) => Errors.unavailable(`stopped waiting for job ${jobId}: the queue is closing`));
    clearTimeout(this.outageTimer);
    const events = this.events;
    this.events = undefined;
    this.opened = undefined;
    const open = events && (await events.catch(() => undefined));
    if (!open) return;
    await Promise.all([closeQueue(open.events), closeRedis(open.replies)]);
    await open.connection.close();
  }

  private start(): Promise<OpenEvents> {
    if (!this.events) {
      const opening = this.openEvents();
      this.events = opening;
      // A failed opening is not kept: the next request tries again.
      opening.catch(() => {
        if (this.events === opening) this.events = undefined;
      });
    }
    return this.events;
  }

  private async openEvents(): Promise<OpenEvents> {
    const last = await this.redis.xrevrange(this.queue.keys.events, '+', '-', 'COUNT', 1);
    const connection = bullConnection(this.options.connection);
    const events = new QueueEvents(this.queue.name, {
      connection: connection.connection,
      prefix: this.options.prefix,
      lastEventId: last[0]?.[0] ?? '0-0',
    });
    events.on('completed', ({ jobId, returnvalue }) => {
      for (const waiter of this.waitersOf(jobId)) this.resolveWith(jobId, waiter, returnvalue);
    });
    events.on('failed', ({ jobId, failedReason }) => {
      for (const waiter of this.waitersOf(jobId)) waiter.reject(decodeJobFailure(failedReason, jobId));
    });
    // Background loop errors are reported by QueueEvents itself and it reconnects; without a
    // listener Node would treat them as fatal.
    events.on('error', () => {});
    // Reconnects and subscribes again by itself; a reply lost meanwhile arrives as its event. A
    // subscription refused (a Redis user without SUBSCRIBE) only turns the fast path off.
    const replies = openRedis(this.options.connection);
    replies.on('error', () => {});
    replies.on('message', (_channel: string, raw: string) => this.onReply(raw));
    const subscribed = replies.subscribe(this.replyTo).catch(() => undefined);
    const ready = events.waitUntilReady().then(() => events.client);
    if ((await within(Promise.all([ready, subscribed]), OPEN_TIMEOUT_MS)) === 'timeout') {
      await Promise.all([closeQueue(events), closeRedis(replies)]);
      await connection.close();
      throw redisUnavailable(`no event connection within ${OPEN_TIMEOUT_MS} ms`);
    }
    const client = (await ready) as unknown as OpenEvents['client'] & NodeJS.EventEmitter;
    client.on('close', () => this.onConnectionLost());
    client.on('ready', () => {
      clearTimeout(this.outageTimer);
      this.outageTimer = undefined;
    });
    this.opened = { events, replies, connection, client };
    return this.opened;
  }

  /** Every failed reconnect attempt closes the connection again: the grace runs from the first. */
  private onConnectionLost(): void {
    if (this.outageTimer) return;
    this.outageTimer = setTimeout(() => {
      this.outageTimer = undefined;
      if (this.connected) return;
      this.abandonAll((jobId) => redisUnavailable(`lost the connection while waiting for job ${jobId}; poll GET /v1/jobs/${jobId}`, { jobId }));
    }, this.options.outageGraceMs);
    this.outageTimer.unref();
  }

  private onReply(raw: string): void {
    const reply = parseResultReply(raw);
    if (reply) for (const waiter of this.waitersOf(reply.job)) this.resolveWith(reply.job, waiter, reply.result);
  }

  private async checkFinished(jobId: string, waiter: Waiter): Promise<void> {
    // State before payload: a job read as finished is then loaded with its outcome, never without.
    const state = await this.queue.getJobState(jobId);
    if (state !== 'completed' && state !== 'failed') return;
    const job = await this.queue.getJob(jobId);
    if (!job) return;
    if (state === 'completed') this.resolveWith(jobId, waiter, job.returnvalue);
    else waiter.reject(decodeJobFailure(job.failedReason, jobId));
  }

  private resolveWith(jobId: string, waiter: Waiter, returnvalue: unknown): void {
    try {
      waiter.resolve(parseRerankJobResult(returnvalue, waiter.documentCount));
    } catch (error) {
      waiter.reject(Errors.internal(`job ${jobId} returned a malformed result: ${(error as Error).message}`, error));
    }
  }

  private waitersOf(jobId: string): Waiter[] {
    return [...(this.waiters.get(jobId) ?? [])];
  }

  private add(jobId: string, waiter: Waiter): void {
    const set = this.waiters.get(jobId) ?? new Set<Waiter>();
    set.add(waiter);
    this.waiters.set(jobId, set);
  }

  private remove(jobId: string, waiter: Waiter): void {
    const set = this.waiters.get(jobId);
    set?.delete(waiter);
    if (set?.size === 0) this.waiters.delete(jobId);
  }
}
