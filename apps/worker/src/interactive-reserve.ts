import { QueueEvents, type ConnectionOptions } from 'bullmq';
import type { RedisClient } from '@rerank-pool/redis-connection';
import { isLineJobId } from '@rerank-pool/batches';
import { closeQueue, PRIORITY } from '@rerank-pool/queue';

/**
 * How long the queue's events are still read after the last batch line of this worker ended: a
 * batch's lines follow one another, and a reader restarted for each would churn connections.
 */
const UNWATCH_AFTER_MS = 2000;

/** The abort reason of a batch line handed back to make room: not a cancel, so it goes back to wait. */
export const YIELDED_TO_INTERACTIVE = 'yielded its slot to an interactive job';

export interface InteractiveReserveOptions {
  queueName: string;
  /** BullMQ key prefix (QUEUE_PREFIX). */
  prefix: string;
  /** For the blocking read of the queue's events: a connection of its own. */
  connection: ConnectionOptions;
  /** For the one read of an added job's priority. */
  redis: RedisClient;
  /** The consumer's job slots (WORKER_CONCURRENCY). */
  concurrency: number;
  /** Aborts a running job's signal (BullMQ's `Worker.cancelJob`). */
  cancelJob: (jobId: string, reason: string) => void;
  /** Called with the id of each batch line handed back. */
  onYield?: (jobId: string) => void;
}

/**
 * Keeps batch lines from holding an interactive job out of a worker. BullMQ hands a free slot to
 * the highest-priority waiting job, but a saturating batch leaves no slot free: its lines take
 * every one as it frees, and an interactive job would wait for a line to finish, however long that
 * line is. BullMQ cannot leave a slot empty for one priority (a worker takes whatever is first),
 * so slots are made free on demand instead: when an interactive job is added while every slot is
 * busy and some hold batch lines, the line that started last is handed back to the queue (no
 * attempt spent, the same hand-back as a drain's) and BullMQ gives the freed slot to the
 * interactive job, the first job waiting.
 *
 * Every worker of the model sees the event and hands one line back, so with N workers N - 1 lines
 * go back for nothing but a re-fetch (and the rows of theirs already running): a few Redis round
 * trips per interactive job, only while batch lines fill the workers.
 *
 * The queue's events are read only while this worker runs batch lines (and UNWATCH_AFTER_MS
 * after): with none there is nothing to hand back, and reading and parsing every event of every
 * job cost each synchronous request 0.2-0.45 ms of the event loop it shares (measured with
 * scripts/overhead-breakdown.mjs, the reader on and off in turn).
 */
export class InteractiveReserve {
  private events?: QueueEvents;
  private unwatchTimer?: NodeJS.Timeout;
  private closed = false;
  /** Batch lines in process, in the order they started. */
  private readonly lines = new Set<string>();
  private active = 0;

  constructor(private readonly options: InteractiveReserveOptions) {}

  /** Wraps a job's processing, so the reserve knows which slots hold batch lines. */
  async track<T>(jobId: string, batchLine: boolean, process: () => Promise<T>): Promise<T> {
    this.active++;
    if (batchLine) {
      this.lines.add(jobId);
      this.watch();
    }
    try {
      return await process();
    } finally {
      this.active--;
      if (this.lines.delete(jobId) && this.lines.size === 0) this.unwatchLater();
    }
  }

  /** Whether the queue's events are being read (batch lines run, or ran moments ago). */
  get watching(): boolean {
    return this.events !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.unwatchTimer);
    const events = this.events;
    this.events = undefined;
    if (events) await closeQueue(events);
  }

  private watch(): void {
    clearTimeout(this.unwatchTimer);
    this.unwatchTimer = undefined;
    if (this.events || this.closed) return;
    const { queueName, connection, prefix } = this.options;
    this.events = new QueueEvents(queueName, { connection, prefix });
    this.events.on('added', ({ jobId }) => void this.added(jobId));
    // QueueEvents reconnects by itself; without a listener Node would treat its errors as fatal.
    this.events.on('error', () => {});
  }

  private unwatchLater(): void {
    if (this.unwatchTimer || !this.events) return;
    this.unwatchTimer = setTimeout(() => {
      this.unwatchTimer = undefined;
      const events = this.events;
      if (this.lines.size > 0 || !events) return;
      this.events = undefined;
      void closeQueue(events).catch(() => undefined);
    }, UNWATCH_AFTER_MS);
    this.unwatchTimer.unref();
  }

  private async added(jobId: string): Promise<void> {
    if (isLineJobId(jobId) || !this.full()) return;
    const priority = await this.options.redis.hget(`${this.options.prefix}:${this.options.queueName}:${jobId}`, 'priority').catch(() => null);
    if (Number(priority) !== PRIORITY.interactive || !this.full()) return;
    const newest = [...this.lines].at(-1);
    if (newest === undefined) return;
    this.lines.delete(newest);
    if (this.lines.size === 0) this.unwatchLater();
    this.options.cancelJob(newest, YIELDED_TO_INTERACTIVE);
    this.options.onYield?.(newest);
  }

  private full(): boolean {
    return this.active >= this.options.concurrency && this.lines.size > 0;
  }
}
