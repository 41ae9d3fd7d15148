import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Errors } from '@rerank-pool/contracts';
import { idempotentBatchId, isBatchId, lineJobId, newBatchId } from './batch-ids.js';
import { errorLine } from './batch-line-result.js';
import { fillBatchQueueOptions } from './batch-queue-options.js';
import type { BatchQueueOptions, FilledBatchQueueOptions } from './batch-queue-options.js';
import { BatchStore } from './batch-store.js';
import type { BatchState } from './batch-store.js';
import { BatchTracker } from './batch-tracker.js';
import { BatchUpload } from './batch-upload.js';
import { queueNameForModel } from './queue-name.js';
import { closeQueue } from './close-queue.js';

export interface BatchQueueEvents {
  /** A background error of the tracker; it retries by itself. */
  error: [error: Error];
}

export interface OpenedBatch {
  batchId: string;
  /** Absent when the idempotency key names a batch whose upload already completed. */
  upload?: BatchUpload;
}

/** States in which a line has not started: the ones a cancel removes. */
const NOT_STARTED = new Set(['waiting', 'prioritized', 'delayed', 'paused']);
const RESULT_CHUNK = 1000;
const CANCEL_CHUNK = 500;

/**
 * Offline batches over the model queues: open (or resume) an upload, read status and results,
 * cancel, and track lines as they finish. Knows nothing of HTTP. Lines are ordinary rerank jobs
 * at batch priority, so workers need no changes.
 */
export class BatchQueue extends EventEmitter<BatchQueueEvents> {
  private readonly options: FilledBatchQueueOptions;
  private readonly redis: Redis;
  private readonly store: BatchStore;
  private readonly queues = new Map<string, Queue>();
  private tracker?: BatchTracker;
  private closing?: Promise<void>;

  constructor(options: BatchQueueOptions) {
    super();
    this.options = fillBatchQueueOptions(options);
    this.redis = new Redis(this.options.connection);
    // ioredis reconnects by itself; a failing command reaches its caller.
    this.redis.on('error', () => {});
    this.store = new BatchStore(this.redis, this.options.prefix, this.options.retentionSeconds);
  }

  /**
   * Starts (or, with a known idempotency key, continues) an upload. A key whose upload finished
   * returns its batch without an upload; a key whose upload is in progress elsewhere is
   * `batch_busy`, for as long as that upload keeps sending.
   */
  async open(tenant: string, idempotencyKey?: string): Promise<OpenedBatch> {
    const batchId = idempotencyKey === undefined ? newBatchId() : idempotentBatchId(tenant, idempotencyKey);
    const token = randomUUID();
    const { state, value } = await this.store.open(batchId, tenant, token, this.options.uploadLeaseMs);
    this.tracker?.wake();
    if (state === 'sealed') return { batchId };
    if (state === 'busy') throw Errors.batchBusy(batchId, Math.max(1, Math.ceil(value / 1000)));
    // Ids are random or hash the tenant in, so another tenant's batch here means a broken invariant.
    if (state === 'foreign') throw Errors.internal(`batch id ${batchId} collides with another tenant's batch`);
    const models = state === 'resumed' ? ((await this.store.read(batchId))?.models ?? []) : [];
    const upload = new BatchUpload({
      batchId,
      token,
      resumeFrom: value,
      models,
      store: this.store,
      queueFor: (model) => this.queueFor(model),
      options: this.options,
    });
    return { batchId, upload };
  }

  /** The batch's state; another tenant's batch is not found, never forbidden. */
  async status(batchId: string, tenant: string): Promise<BatchState> {
    const state = isBatchId(batchId) ? await this.store.read(batchId) : undefined;
    if (!state || state.tenant !== tenant) throw Errors.batchNotFound(batchId);
    return state;
  }

  /**
   * The results lines (NDJSON text, input order) of a finished batch. A running batch is
   * `batch_not_finished`: a partial file that looks complete is worse than waiting.
   */
  async results(batchId: string, tenant: string): Promise<AsyncGenerator<string>> {
    const state = await this.status(batchId, tenant);
    if (state.finishedAt === undefined) throw Errors.batchNotFinished(batchId, state.uploaded ? state.status : 'still being uploaded');
    return this.resultLines(batchId, state.total);
  }

  /**
   * Cancels the lines that have not started: each is removed from its queue and reads
   * `cancelled`. Lines already running finish and keep their results; the batch finishes with
   * them. Refused (`batch_busy`) while an upload is still sending lines.
   */
  async cancel(batchId: string, tenant: string): Promise<BatchState> {
    await this.status(batchId, tenant);
    const begun = await this.store.beginCancel(batchId);
    if (begun.state === 'busy') throw Errors.batchBusy(batchId, Math.max(1, Math.ceil(begun.value / 1000)));
    if (begun.state === 'gone') throw Errors.batchNotFound(batchId);
    const state = (await this.store.read(batchId))!;
    for (const [model, indexes] of await this.store.unsettledByModel(batchId)) {
      const name = state.models[model - 1];
      if (name === undefined) continue;
      const queue = this.queueFor(name);
      for (let i = 0; i < indexes.length; i += CANCEL_CHUNK) await this.cancelLines(batchId, queue, indexes.slice(i, i + CANCEL_CHUNK));
    }
    return this.status(batchId, tenant);
  }

  /** Follows the model queues' events so batch counters and results stay current (see BatchTracker). */
  startTracking(): void {
    if (this.tracker || this.closing) return;
    const queues = this.options.models.map((model) => this.queueFor(model));
    this.tracker = new BatchTracker(this.store, queues, this.options.connection, this.options.trackerBlockMs);
    this.tracker.on('error', (error) => this.emit('error', error));
    this.tracker.start();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.tracker?.close();
      await Promise.allSettled([...this.queues.values()].map((queue) => closeQueue(queue)));
      await this.redis.quit().catch(() => this.redis.disconnect());
    })();
    return this.closing;
  }

  private async *resultLines(batchId: string, total: number): AsyncGenerator<string> {
    for (let from = 0; from < total; from += RESULT_CHUNK) {
      const lines = await this.store.results(batchId, from, Math.min(RESULT_CHUNK, total - from));
      for (const [offset, line] of lines.entries()) {
        yield line ?? errorLine(null, from + offset, Errors.internal(`the result of line ${from + offset} has expired`));
      }
    }
  }

  /**
   * Removes the lines not started yet. State is read first because `remove` also deletes a
   * finished job; a line finishing between the read and the remove is the one case where a
   * computed line reads `cancelled` (consistently: its result is never recorded). A line
   * without a job was staged by an upload that stopped before adding it (or was settled and
   * removed meanwhile, which the settle script ignores).
   */
  private async cancelLines(batchId: string, queue: Queue, indexes: readonly number[]): Promise<void> {
    const jobIds = indexes.map((index) => lineJobId(batchId, index));
    const states = await Promise.all(jobIds.map((jobId) => queue.getJobState(jobId)));
    const waiting = indexes.filter((_, i) => NOT_STARTED.has(states[i]!));
    const removed = await Promise.all(waiting.map((index) => queue.remove(lineJobId(batchId, index))));
    const jobless = indexes.filter((_, i) => states[i] === 'unknown');
    const cancelled = [...waiting.filter((_, i) => removed[i] === 1), ...jobless];
    const ids = await this.store.lineIds(batchId, cancelled);
    await this.store.settle(
      batchId,
      cancelled.map((index, i) => ({
        index,
        outcome: 'cancelled' as const,
        line: errorLine(JSON.parse(ids[i] ?? 'null'), index, Errors.lineCancelled(batchId)),
        pairs: 0,
      })),
    );
  }

  private queueFor(model: string): Queue {
    let queue = this.queues.get(model);
    if (!queue) {
      queue = new Queue(queueNameForModel(model), { connection: this.options.connection, prefix: this.options.prefix });
      queue.on('error', () => {});
      this.queues.set(model, queue);
    }
    return queue;
  }
}
