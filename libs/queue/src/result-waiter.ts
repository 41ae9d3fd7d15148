import { QueueEvents } from 'bullmq';
import type { Queue } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { Errors, decodeJobFailure, parseRerankJobResult } from '@rerank-pool/contracts';
import type { RerankJobResult } from '@rerank-pool/contracts';

interface Waiter {
  documentCount: number;
  resolve(result: RerankJobResult): void;
  reject(error: Error): void;
}

/**
 * Waits for job results over one QueueEvents (one blocking connection) per queue, however many
 * requests wait. Race-free by construction:
 * - QueueEvents starts reading right after the stream's last entry at creation, not at '$' when
 *   its loop happens to start, so no event emitted after creation is missed;
 * - each wait registers first and then reads the job once, so a job that finished before the
 *   waiter existed is answered from Redis. A job added after `listen()` resolved needs no read.
 */
export class ResultWaiter {
  private events?: Promise<QueueEvents>;
  private readonly waiters = new Map<string, Set<Waiter>>();

  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    private readonly connection: RedisOptions,
    private readonly prefix: string,
  ) {}

  /** Resolves once events are being followed: a job added after that cannot finish unseen. */
  async listen(): Promise<void> {
    await this.start();
  }

  /** `readBack: false` skips reading the job once, for a job added after `listen()` resolved. */
  async wait(jobId: string, documentCount: number, timeoutMs: number, { readBack = true }: { readBack?: boolean } = {}): Promise<RerankJobResult> {
    await this.start();
    return new Promise<RerankJobResult>((resolve, reject) => {
      let settled = false;
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.remove(jobId, waiter);
        finish();
      };
      const waiter: Waiter = {
        documentCount,
        resolve: (result) => settle(() => resolve(result)),
        reject: (error) => settle(() => reject(error)),
      };
      const timer = setTimeout(() => waiter.reject(Errors.timeout(jobId, timeoutMs)), timeoutMs);
      timer.unref();
      this.add(jobId, waiter);
      if (readBack) this.checkFinished(jobId, waiter).catch(waiter.reject);
    });
  }

  /** Rejects every pending wait, then closes the QueueEvents connection. */
  async close(): Promise<void> {
    for (const [jobId, waiters] of this.waiters) {
      for (const waiter of waiters) waiter.reject(Errors.unavailable(`stopped waiting for job ${jobId}: the queue is closing`));
    }
    const events = this.events;
    this.events = undefined;
    if (events) await (await events.catch(() => undefined))?.close();
  }

  private start(): Promise<QueueEvents> {
    this.events ??= this.openEvents();
    return this.events;
  }

  private async openEvents(): Promise<QueueEvents> {
    const last = await this.redis.xrevrange(this.queue.keys.events, '+', '-', 'COUNT', 1);
    const events = new QueueEvents(this.queue.name, {
      connection: this.connection,
      prefix: this.prefix,
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
    await events.waitUntilReady();
    return events;
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
