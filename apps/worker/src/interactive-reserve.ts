import { QueueEvents, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { isLineJobId } from '@rerank-pool/batches';
import { closeQueue, PRIORITY } from '@rerank-pool/queue';

/** The abort reason of a batch line handed back to make room: not a cancel, so it goes back to wait. */
export const YIELDED_TO_INTERACTIVE = 'yielded its slot to an interactive job';

export interface InteractiveReserveOptions {
  queueName: string;
  /** BullMQ key prefix (QUEUE_PREFIX). */
  prefix: string;
  /** For the blocking read of the queue's events: a connection of its own. */
  connection: ConnectionOptions;
  /** For the one read of an added job's priority. */
  redis: Redis;
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
 */
export class InteractiveReserve {
  private readonly events: QueueEvents;
  /** Batch lines in process, in the order they started. */
  private readonly lines = new Set<string>();
  private active = 0;

  constructor(private readonly options: InteractiveReserveOptions) {
    this.events = new QueueEvents(options.queueName, { connection: options.connection, prefix: options.prefix });
    this.events.on('added', ({ jobId }) => void this.added(jobId));
    // QueueEvents reconnects by itself; without a listener Node would treat its errors as fatal.
    this.events.on('error', () => {});
  }

  /** Wraps a job's processing, so the reserve knows which slots hold batch lines. */
  async track<T>(jobId: string, batchLine: boolean, process: () => Promise<T>): Promise<T> {
    this.active++;
    if (batchLine) this.lines.add(jobId);
    try {
      return await process();
    } finally {
      this.active--;
      this.lines.delete(jobId);
    }
  }

  close(): Promise<void> {
    return closeQueue(this.events);
  }

  private async added(jobId: string): Promise<void> {
    if (isLineJobId(jobId) || !this.full()) return;
    const priority = await this.options.redis.hget(`${this.options.prefix}:${this.options.queueName}:${jobId}`, 'priority').catch(() => null);
    if (Number(priority) !== PRIORITY.interactive || !this.full()) return;
    const newest = [...this.lines].at(-1);
    if (newest === undefined) return;
    this.lines.delete(newest);
    this.options.cancelJob(newest, YIELDED_TO_INTERACTIVE);
    this.options.onYield?.(newest);
  }

  private full(): boolean {
    return this.active >= this.options.concurrency && this.lines.size > 0;
  }
}
