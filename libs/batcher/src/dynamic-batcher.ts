import { EventEmitter } from 'node:events';
import type { SpanContext } from '@opentelemetry/api';
import { gather, pairLength, planBatches, type PackedPairs } from '@rerank-pool/model-runtime';
import { BatcherError, resolveBatcherOptions, type DynamicBatcherOptions, type ResolvedBatcherOptions } from './batcher-options.js';

/** What a runner is told about the batch it runs, for its trace span and metrics. */
export interface BatchPlan {
  /** The priority of the batch's rows (a batch holds one priority). */
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

export type Priority = 'interactive' | 'batch';

export interface SubmitOptions {
  /** Interactive rows are batched before batch rows. Default `interactive`. */
  priority?: Priority;
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
  /** The priority of the batch's rows (a batch holds one priority). */
  priority: Priority;
}

export interface BatcherEvents {
  batch: [stats: BatchStats];
}

interface Submission {
  seq: number;
  packed: PackedPairs;
  priority: Priority;
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
  priority: Priority;
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
 * Interactive rows are planned first, and batch-priority batches never wait on the runner: they
 * are only handed to threads nothing else holds or waits for (`threadTasks`). A batch queued on
 * the pool cannot be taken back, so every one queued there would add a whole batch to the wait
 * of the next interactive request; kept here instead, they leave an interactive batch at most
 * the batches already running ahead of it.
 */
export class DynamicBatcher extends EventEmitter<BatcherEvents> {
  readonly options: ResolvedBatcherOptions;
  private readonly runner: BatchRunner;
  private pending: PendingRow[] = [];
  private pendingTokens = 0;
  private inflight = 0;
  /** Batch-priority batches among `inflight`. */
  private batchPriorityInflight = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** When the last interactive row arrived (performance.now()), -Infinity before any. */
  private lastInteractiveAt = Number.NEGATIVE_INFINITY;
  /** Milliseconds one padded token of a batch-priority batch takes on a thread (moving average), until one ran undefined. */
  private msPerBatchToken?: number;
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
        priority: options.priority ?? 'interactive',
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
      if (submission.priority === 'interactive') this.lastInteractiveAt = arrivedAt;
      for (let index = 0; index < packed.count; index++) {
        const length = pairLength(packed, index);
        this.pending.push({ submission, index, length, arrivedAt });
        this.pendingTokens += length;
      }
      this.schedule();
    });
  }

  /**
   * Whether a task handed to the runner's threads now would wait for a batch-priority batch:
   * every thread is taken and one of them runs batch work.
   */
  get behindBatchWork(): boolean {
    return this.batchPriorityInflight > 0 && Math.max(this.inflight, this.options.threadTasks()) >= this.options.parallelism;
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
    const planned = this.planByPriority(now);
    // While batch rows wait, a partial interactive batch gains nothing by waiting for more rows:
    // the thread it would wait for goes to batch work meanwhile.
    const batchWaiting = planned.some((batch) => batch.priority === 'batch');
    const ready = planned.filter(
      (batch) =>
        batch.full || this.closed || now - batch.oldestArrival >= this.options.maxWaitMs || (batch.priority === 'interactive' && batchWaiting),
    );
    const idle = Math.max(0, this.options.parallelism - Math.max(this.inflight, this.options.threadTasks()));
    let threadsLeft = idle;
    const chosen: CandidateBatch[] = [];
    for (const batch of ready) {
      if (chosen.length >= free || (batch.priority === 'batch' && threadsLeft <= 0)) break;
      threadsLeft--;
      chosen.push(batch);
    }
    // Interactive rows arriving while batch work holds threads go out in one piece per thread,
    // all queued on the pool: the first thread to free takes one, the next the other (or the
    // first again, if it is done before). Whole, they would all run on the first thread to free,
    // serially, while the next one went back to batch work.
    const behindBatch = this.batchPriorityInflight > 0 && chosen.some((batch) => batch.priority === 'interactive');
    const taken = splitForThreads(chosen, behindBatch ? this.options.parallelism : idle);
    const takenRows = new Set(taken.flatMap((batch) => batch.rows));
    this.pending = this.pending.filter((row) => !takenRows.has(row));
    for (const row of takenRows) this.pendingTokens -= row.length;
    for (const batch of taken) void this.run(batch);
    if (this.pending.length > 0 && this.inflight < this.options.maxInflight) {
      // Rows are appended in arrival order and filtering keeps it: the first waited longest.
      const oldest = this.pending[0]!.arrivedAt;
      const due = oldest + this.options.maxWaitMs - now;
      // Overdue rows wait for a thread: a batch of ours that finishes dispatches again, but
      // threads held by other tasks (tokenization) tell nobody when they free up, so look again.
      if (due > 0 || this.inflight === 0) {
        this.timer = setTimeout(() => this.flush(), due > 0 ? due : Math.max(1, this.options.maxWaitMs));
        this.timer.unref();
      }
    }
  }

  /**
   * Interactive rows are planned first, then batch rows; within a priority the batches that
   * hold the oldest rows go first, so a steady stream of short rows cannot starve long ones.
   */
  private planByPriority(now: number): CandidateBatch[] {
    const out: CandidateBatch[] = [];
    const nearInteractive = now - this.lastInteractiveAt < this.options.interactiveWindowMs;
    for (const priority of ['interactive', 'batch'] as const) {
      const rows = this.pending.filter((row) => row.submission.priority === priority);
      if (rows.length === 0) continue;
      const budget = priority === 'batch' && nearInteractive ? { ...this.options, maxBatchTokens: this.batchTokensNearInteractive() } : this.options;
      const plan = planBatches(
        rows.map((row) => row.length),
        budget,
      ).map((batch, i, all) => {
        const batchRows = batch.rows.map((index) => rows[index]!);
        return {
          priority,
          rows: batchRows,
          // The planner closed every batch but the last because the next row did not fit.
          full: i < all.length - 1 || batchRows.length >= this.options.maxBatchRows,
          oldestArrival: Math.min(...batchRows.map((row) => row.arrivedAt)),
          oldestSeq: Math.min(...batchRows.map((row) => row.submission.seq)),
        };
      });
      out.push(...plan.sort((a, b) => a.oldestSeq - b.oldestSeq));
    }
    return out;
  }

  /** The token budget of a batch-priority batch that should end within `batchMsNearInteractive`. */
  private batchTokensNearInteractive(): number {
    if (this.msPerBatchToken === undefined) return this.options.maxBatchTokens;
    return Math.max(1, Math.min(this.options.maxBatchTokens, Math.floor(this.options.batchMsNearInteractive / this.msPerBatchToken)));
  }

  private async run(candidate: CandidateBatch): Promise<void> {
    const batch = candidate.rows;
    const batchPriority = candidate.priority === 'batch';
    this.inflight++;
    if (batchPriority) this.batchPriorityInflight++;
    const started = performance.now();
    const realTokens = batch.reduce((sum, row) => sum + row.length, 0);
    const paddedTokens = batch.length * Math.max(...batch.map((row) => row.length));
    const submissions = [...new Set(batch.map((row) => row.submission))];
    const plan: BatchPlan = {
      priority: candidate.priority,
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
      // Batch-priority batches only go to free threads: their time is the thread's work alone.
      if (batchPriority) {
        const perToken = durationMs / paddedTokens;
        this.msPerBatchToken = this.msPerBatchToken === undefined ? perToken : 0.8 * this.msPerBatchToken + 0.2 * perToken;
      }
      this.emit('batch', {
        rows: batch.length,
        submissions: plan.submissions,
        realTokens,
        paddedTokens,
        paddingEfficiency: realTokens / paddedTokens,
        durationMs,
        priority: candidate.priority,
      });
    } catch (error) {
      for (const row of batch) this.settle(row.submission, error);
    } finally {
      this.inflight--;
      if (batchPriority) this.batchPriorityInflight--;
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
