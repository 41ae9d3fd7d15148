import { openObjectRef } from '@rerank-pool/object-store';
import type { ObjectStore } from '@rerank-pool/object-store';
import { SEGMENT_LINES } from './batch-keys.js';
import { BatchFeeder } from './batch-feeder.js';
import type { FilledBatchOptions } from './batch-options.js';
import type { BatchRecords } from './batch-records.js';
import type { BatchState } from './batch-state.js';
import { DriverLeaseLost, InputShrank, InputUnreadable, StaleBatchState } from './driver-errors.js';
import { ReferencedInput, UploadedInput } from './input-source.js';
import type { InputSource } from './input-source.js';
import type { LineJobs } from './line-jobs.js';
import type { LineParser } from './line-parser.js';
import { ResultsFlusher, resultsInRedis } from './results-flusher.js';
import { storeResultsRef, writeResults } from './results-ref.js';
import { mergedResults } from './results-merge.js';
import { storeLayout } from './store-layout.js';
import { WindowKeeper } from './window-keeper.js';

export type StepOutcome = 'continue' | 'done';

export interface BatchRunArgs {
  batchId: string;
  token: string;
  records: BatchRecords;
  store: ObjectStore;
  jobs: LineJobs;
  parser: LineParser;
  options: FilledBatchOptions;
  signal: AbortSignal;
  /** Problems worth a log line that the run survives (a store write retried, a lost result). */
  warn: (message: string, error?: Error) => void;
}

/** How long the input may stay unreadable before the lines not fed yet are failed with the reason. */
const INPUT_GIVE_UP_MS = 5 * 60_000;
/** Tries at writing a batch's output_url before its results go to the batch store instead. */
const OUTPUT_ATTEMPTS = 3;
/** Checkpoints of counting a by-reference input, at most this often. */
const SCAN_CHECKPOINT_MS = 1000;
/** Retired segments are looked for this often. */
const SEGMENT_CHECK_MS = 5000;

/**
 * One batch, driven by the process that holds its driver lease: counts a by-reference input,
 * keeps the window full, moves settled results to the store, repairs or cancels lines, and
 * writes the finished results. Each `step` does what is due and returns; every write is fenced
 * by the lease token, so a step of a process that lost the lease changes nothing.
 */
export class BatchRun {
  private input?: InputSource;
  /** The store opened for a by-reference input, closed with the run. */
  private inputStore?: ObjectStore;
  private feeder?: BatchFeeder;
  private readonly flusher: ResultsFlusher;
  private readonly keeper: WindowKeeper;
  private lastReconcile = 0;
  private lastSegmentCheck = 0;
  private cancelSwept = false;
  private unreadableSince?: number;
  private outputFailures = 0;

  constructor(private readonly args: BatchRunArgs) {
    this.flusher = new ResultsFlusher(args);
    this.keeper = new WindowKeeper(args.batchId, args.records, args.jobs);
  }

  async step(): Promise<StepOutcome> {
    const { batchId, records } = this.args;
    const state = await records.read(batchId);
    if (!state || state.finishedAt !== undefined) {
      await records.removeActive(batchId);
      return 'done';
    }
    // An upload still being sent (or abandoned: it expires) has nothing to drive yet.
    if (!state.inputComplete && state.source === 'upload') return 'continue';
    try {
      return await this.drive(state);
    } catch (error) {
      if (error instanceof StaleBatchState) return 'continue';
      if (error instanceof InputShrank) {
        await records.settleTail(batchId, 'failed', error.message);
        return 'continue';
      }
      if (error instanceof InputUnreadable) return this.inputFailed(error);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.feeder?.close();
    await this.inputStore?.close();
  }

  private async drive(state: BatchState): Promise<StepOutcome> {
    const { batchId, records, options } = this.args;
    const input = this.inputOf(state);
    if (!state.inputComplete) {
      await this.scan(state, input);
      return 'continue';
    }
    this.feeder ??= new BatchFeeder({ ...this.args, input });
    if (state.pending) await this.feeder.recoverPending(state);
    const now = Date.now();
    const reconcileDue = now - this.lastReconcile >= options.reconcileIntervalMs;
    if (state.cancelledAt !== undefined) {
      if (!this.cancelSwept || reconcileDue) {
        await this.keeper.cancel(state);
        this.cancelSwept = true;
        this.lastReconcile = now;
      }
      if (!state.tail) await records.settleTail(batchId, 'cancelled');
    } else {
      await this.feeder.topUp(state);
      this.unreadableSince = undefined;
      if (reconcileDue) {
        await this.keeper.reconcile(state);
        this.lastReconcile = now;
      }
    }
    await this.flusher.flush(state);
    if (now - this.lastSegmentCheck >= SEGMENT_CHECK_MS) {
      await this.retireSegments(state);
      this.lastSegmentCheck = now;
    }
    // Workers settle lines meanwhile: the batch is read again, but only once every line has been
    // fed or given up (before that it cannot be settled).
    if (state.fed < state.total && !state.tail && state.cancelledAt === undefined) return 'continue';
    const latest = await records.read(batchId);
    if (latest?.settledAt !== undefined && latest.finishedAt === undefined) return this.finish(latest, input);
    return 'continue';
  }

  private inputOf(state: BatchState): InputSource {
    if (this.input) return this.input;
    const { store, options, batchId } = this.args;
    if (state.source === 'url') {
      const ref = openObjectRef(state.inputUrl!, { env: options.env });
      this.inputStore = ref.store;
      this.input = new ReferencedInput(ref.store, ref.key, options.maxLineBytes);
    } else {
      this.input = new UploadedInput(store, batchId, state.upload, options.maxLineBytes);
    }
    return this.input;
  }

  /** Counts a by-reference input's lines (checkpointed, so a new driver continues) to fix the batch's total. */
  private async scan(state: BatchState, input: InputSource): Promise<void> {
    const { batchId, token, records, options, signal } = this.args;
    let lines = state.total;
    let cursor = { part: 0, offset: state.scan.offset, physical: state.scan.physical };
    let checkpoint = Date.now();
    const record = async (done: boolean, error?: string) => {
      if ((await records.scanProgress(batchId, token, { ...cursor, lines, done, error })) < 0) throw new DriverLeaseLost(batchId);
    };
    try {
      for await (const line of input.lines(cursor)) {
        lines += 1;
        cursor = line.cursor;
        if (lines > options.maxLines) {
          await record(true, `${state.inputUrl} has more than ${options.maxLines} lines (BATCH_MAX_LINES)`);
          return;
        }
        if (Date.now() - checkpoint >= SCAN_CHECKPOINT_MS) {
          if (signal.aborted) return;
          await record(false);
          checkpoint = Date.now();
        }
      }
    } catch (error) {
      if (error instanceof DriverLeaseLost) throw error;
      throw new InputUnreadable(batchId, error);
    }
    await record(true);
    this.unreadableSince = undefined;
  }

  private async inputFailed(error: InputUnreadable): Promise<StepOutcome> {
    this.unreadableSince ??= Date.now();
    this.args.warn(error.message, error);
    if (Date.now() - this.unreadableSince < INPUT_GIVE_UP_MS) return 'continue';
    const { batchId, records, token } = this.args;
    const state = await records.read(batchId);
    if (state && !state.inputComplete) {
      // Lines never counted cannot be listed: the batch ends with none, and the reason.
      await records.scanProgress(batchId, token, { ...state.scan, lines: state.total, done: true, error: error.message });
    }
    await records.settleTail(batchId, 'failed', error.message);
    this.unreadableSince = undefined;
    return 'continue';
  }

  private async retireSegments(state: BatchState): Promise<void> {
    const { batchId, token, records } = this.args;
    for (let segment = state.segmentsDone; (segment + 1) * SEGMENT_LINES <= state.fed; segment++) {
      const retired = await records.advanceSegment(batchId, token, segment);
      if (retired < 0) throw new DriverLeaseLost(batchId);
      if (retired === 0) break;
      state.segmentsDone = segment + 1;
    }
  }

  /** Writes the results (the merge of all parts, in input order) and closes the batch. */
  private async finish(state: BatchState, input: InputSource): Promise<StepOutcome> {
    const { batchId, token, records, store, options, parser } = this.args;
    while (resultsInRedis(state) > 0) {
      await this.flusher.flush(state, true);
      const latest = await records.read(batchId);
      if (!latest) return 'done';
      state = latest;
    }
    // An output_url that could not be written is given up for the batch store, and the batch says so.
    const useOutput = state.outputUrl !== undefined && this.outputFailures < OUTPUT_ATTEMPTS;
    const resultsRef = useOutput ? state.outputUrl! : storeResultsRef(storeLayout.results(batchId));
    const outputError =
      state.outputUrl !== undefined && !useOutput
        ? `output_url ${state.outputUrl} could not be written after ${OUTPUT_ATTEMPTS} attempts; the results are served by GET /v1/batches/${batchId}/results`
        : undefined;
    const merge = { batchId, store, input, parser, maxLineBytes: options.maxLineBytes, onMissing: (index: number) => this.args.warn(`batch ${batchId}: no results part holds line ${index}`) };
    try {
      await writeResults(resultsRef, store, options.env, mergedResults(state, merge));
    } catch (error) {
      if (useOutput) this.outputFailures += 1;
      this.args.warn(`batch ${batchId}: writing its results to ${resultsRef} failed`, error as Error);
      return 'continue';
    }
    const finished = await records.finish(batchId, token, { resultsRef, error: outputError, retentionSeconds: options.retentionSeconds, state });
    if (finished === -1) throw new DriverLeaseLost(batchId);
    if (finished < 0) return 'continue';
    await records.scheduleExpiry(batchId, Date.now() + options.retentionSeconds * 1000);
    await records.removeActive(batchId);
    // The parts (and an upload's input) are only needed until the results exist; the janitor
    // removes whatever a crash here leaves once the batch expires.
    await store.deletePrefix(storeLayout.resultsParts(batchId));
    if (state.source === 'upload') await store.deletePrefix(storeLayout.inputParts(batchId));
    return 'done';
  }
}
