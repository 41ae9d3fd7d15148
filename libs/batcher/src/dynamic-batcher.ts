import { EventEmitter } from 'node:events';
import type { SpanContext } from '@opentelemetry/api';
import { gather, pairLength, planBatches, type PackedPairs } from '@rerank-pool/model-runtime';
import { BatcherError, resolveBatcherOptions, type DynamicBatcherOptions, type Priority, type ResolvedBatcherOptions } from './batcher-options.js';

/** What a runner is told about the batch it runs, for its trace span and metrics. */
export interface BatchPlan {
  /** The priority of the batcher's rows (`DynamicBatcherOptions.priority`). */
  priority: Priority;
  rows: number;
  /** Distinct submissions that have rows in this batch. */
  submissions: number;
  realTokens: number;
  paddedTokens: number;
  /** The `traceLink` of every submission in the batch that gave one: the jobs it serves. */
  traceLinks: SpanContext[];
}

/** Runs one inference batch; the buffer of `rows` may be transferred away. */
export type BatchRunner = (rows: PackedPairs, plan: BatchPlan) => Promise<Float32Array>;

export interface SubmitOptions {
  /** Rows of an aborted submission that have not started are dropped. */
  signal?: AbortSignal;
  /** Called as the submission's rows complete. */
  onProgress?: (done: number, total: number) => void;
  /**
   * The span this submission is computed for (a job's span). A batch serves many submissions,
   * so it cannot be their child: its runner gets every submission's link instead.
   */
  traceLink?: SpanContext;
}

/** What one batch did, for metrics and for tests that prove cross-job batching. */
export interface BatchStats {
  rows: number;
  /** Distinct submissions that had rows in this batch. */
  submissions: number;
  realTokens: number;
  paddedTokens: number;
  paddingEfficiency: number;
  durationMs: number;
  /** The priority of the batcher's rows (`DynamicBatcherOptions.priority`). */
  priority: Priority;
}

export interface BatcherEvents {
  batch: [stats: BatchStats];
}

interface Submission {
  seq: number;
  packed: PackedPairs;
  logits: Float32Array;
  remaining: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  traceLink?: SpanContext;
  resolve: (logits: Float32Array) => void;
  reject: (error: unknown) => void;
  settled: boolean;
}

interface PendingRow {
  submission: Submission;
  index: number;
  length: number;
  arrivedAt: number;
}

interface CandidateBatch {
  rows: PendingRow[];
  full: boolean;
  oldestArrival: number;
  oldestSeq: number;
}

/**
 * Merges the pairs of every concurrent submission into length-sorted, token-budgeted
 * batches (the idea of TEI's batching queue, with padding: our batches are dense tensors).
 *
 * One owner of its state: submissions add rows; a dispatch plans all waiting rows at once and
 * hands the runner, up to its free slots, the batches that are full or whose oldest row has
 * waited maxWaitMs. The rest keep waiting and merge with rows that arrive meanwhile. A
 * dispatch is tried when a slot frees up, when a full batch worth of tokens is waiting, and
 * when the oldest waiting row's time is up.
 *
 * A batcher feeds one lane of the pool (`priority`): interactive and batch rows never share a
 * batch nor a thread, so one batcher per lane, each with its own runner.
 */
export class DynamicBatcher extends EventEmitter<BatcherEvents> {
  readonly options: ResolvedBatcherOptions;
  private readonly runner: BatchRunner;
  private pending: PendingRow[] = [];
  private pendingTokens = 0;
  private inflight = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(runner: BatchRunner, options: DynamicBatcherOptions = {}) {
    super();
    this.runner = runner;
    this.options = resolveBatcherOptions(options);
  }

  /** Queues every pair of `packed`; resolves with their logits in input order. */
  submit(packed: PackedPairs, options: SubmitOptions = {}): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new BatcherError('BATCHER_CLOSED', 'the batcher is closed'));
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    return new Promise<Float32Array>((resolve, reject) => {
      const submission: Submission = {
        seq: this.seq++,
        packed,
        logits: new Float32Array(packed.count * this.options.numLabels),
        remaining: packed.count,
        signal: options.signal,
        onProgress: options.onProgress,
        traceLink: options.traceLink,
        resolve,
        reject,
        settled: false,
      };
      if (packed.count === 0) {
        submission.settled = true;
        resolve(submission.logits);
        return;
      }
      options.signal?.addEventListener('abort', () => this.settle(submission, abortError(options.signal!)), { once: true });
      const arrivedAt = performance.now();
      for (let index = 0; index < packed.count; index++) {
        const length = pairLength(packed, index);
        this.pending.push({ submission, index, length, arrivedAt });
        this.pendingTokens += length;
      }
      this.schedule();
    });
  }

  /** Batches handed to the runner and not yet finished. */
  get running(): number {
    return this.inflight;
  }

  /** Rows waiting to be batched. */
  get waitingRows(): number {
    return this.pending.length;
  }

  /** Resolves when nothing is waiting or running. */
  drain(): Promise<void> {
    if (this.pending.length === 0 && this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new submissions; rows already submitted still run. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    await this.drain();
  }

  private schedule(): void {
    if (this.inflight >= this.options.maxInflight) return; // a finishing batch dispatches
    if (this.pendingTokens >= this.options.maxBatchTokens || this.closed || this.options.maxWaitMs === 0) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.options.maxWaitMs);
      this.timer.unref();
    }
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = this.pending.filter((row) => !row.submission.settled);
    this.pendingTokens = this.pending.reduce((sum, row) => sum + row.length, 0);
    if (this.pending.length === 0) return this.notifyIdle();
    const free = this.options.maxInflight - this.inflight;
    if (free <= 0) return;

    // A batch goes now if it is full, or its oldest row has waited its time; a partial batch
    // otherwise keeps waiting, since rows arriving meanwhile make it both fuller and tighter.
    const now = performance.now();
    const chosen = this.plan()
      .filter((batch) => batch.full || this.closed || now - batch.oldestArrival >= this.options.maxWaitMs)
      .slice(0, free);
    const idle = Math.max(0, this.options.parallelism - Math.max(this.inflight, this.options.threadTasks()));
    const taken = splitForThreads(chosen, idle);
    const takenRows = new Set(taken.flatMap((batch) => batch.rows));
    this.pending = this.pending.filter((row) => !takenRows.has(row));
    for (const row of takenRows) this.pendingTokens -= row.length;
    for (const batch of taken) void this.run(batch);
    if (this.pending.length > 0 && this.inflight < this.options.maxInflight) {
      // Rows are appended in arrival order and filtering keeps it: the first waited longest.
      // With a slot still free every due batch went, so what is left is due later; with none,
      // a finishing batch dispatches again.
      const due = this.pending[0]!.arrivedAt + this.options.maxWaitMs - now;
      this.timer = setTimeout(() => this.flush(), Math.max(1, due));
      this.timer.unref();
    }
  }

  /** Every waiting row planned; the batches that hold the oldest rows go first, so a steady stream of short rows cannot starve long ones. */
  private plan(): CandidateBatch[] {
    const rows = this.pending;
    return planBatches(
      rows.map((row) => row.length),
      this.options,
    )
      .map((batch, i, all) => {
        const batchRows = batch.rows.map((index) => rows[index]!);
        return {
          rows: batchRows,
          // The planner closed every batch but the last because the next row did not fit.
          full: i < all.length - 1 || batchRows.length >= this.options.maxBatchRows,
          oldestArrival: Math.min(...batchRows.map((row) => row.arrivedAt)),
          oldestSeq: Math.min(...batchRows.map((row) => row.submission.seq)),
        };
      })
      .sort((a, b) => a.oldestSeq - b.oldestSeq);
  }

  private async run(candidate: CandidateBatch): Promise<void> {
    const batch = candidate.rows;
    this.inflight++;
    const started = performance.now();
    const realTokens = batch.reduce((sum, row) => sum + row.length, 0);
    const paddedTokens = batch.length * Math.max(...batch.map((row) => row.length));
    const submissions = [...new Set(batch.map((row) => row.submission))];
    const plan: BatchPlan = {
      priority: this.options.priority,
      rows: batch.length,
      submissions: submissions.length,
      realTokens,
      paddedTokens,
      traceLinks: submissions.flatMap((submission) => (submission.traceLink ? [submission.traceLink] : [])),
    };
    try {
      const logits = await this.runner(gather(batch.map((row) => ({ source: row.submission.packed, index: row.index }))), plan);
      const labels = this.options.numLabels;
      batch.forEach((row, r) => {
        const submission = row.submission;
        if (submission.settled) return;
        submission.logits.set(logits.subarray(r * labels, (r + 1) * labels), row.index * labels);
        submission.remaining--;
        submission.onProgress?.(submission.packed.count - submission.remaining, submission.packed.count);
        if (submission.remaining === 0) this.settle(submission);
      });
      const durationMs = performance.now() - started;
      this.emit('batch', {
        rows: batch.length,
        submissions: plan.submissions,
        realTokens,
        paddedTokens,
        paddingEfficiency: realTokens / paddedTokens,
        durationMs,
        priority: this.options.priority,
      });
    } catch (error) {
      for (const row of batch) this.settle(row.submission, error);
    } finally {
      this.inflight--;
      if (this.pending.length > 0) this.flush();
      else this.notifyIdle();
    }
  }

  private settle(submission: Submission, error?: unknown): void {
    if (submission.settled) return;
    submission.settled = true;
    if (error === undefined) submission.resolve(submission.logits);
    else submission.reject(error);
  }

  private notifyIdle(): void {
    if (this.pending.length > 0 || this.inflight > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * Splits the largest batches in two (each half keeps a contiguous length range) until there are
 * `threads` of them, so a lone request is not run on one thread while the others wait.
 */
function splitForThreads(batches: CandidateBatch[], threads: number): CandidateBatch[] {
  const out = [...batches];
  while (out.length > 0 && out.length < threads) {
    const largest = out.reduce((a, b) => (b.rows.length > a.rows.length ? b : a));
    if (largest.rows.length < 2) break;
    const half = Math.ceil(largest.rows.length / 2);
    out.splice(out.indexOf(largest), 1, { ...largest, rows: largest.rows.slice(0, half) }, { ...largest, rows: largest.rows.slice(half) });
  }
  return out;
}

function abortError(signal: AbortSignal): BatcherError {
  return new BatcherError('BATCHER_ABORTED', 'the submission was aborted before it finished', { cause: signal.reason });
}
