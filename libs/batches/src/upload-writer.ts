import { Errors } from '@rerank-pool/contracts';
import type { RerankPoolError } from '@rerank-pool/contracts';
import type { ObjectStore } from '@rerank-pool/object-store';
import type { FilledBatchOptions } from './batch-options.js';
import type { BatchRecords } from './batch-records.js';
import { tooLongMarker } from './input-source.js';
import type { RawLine } from './line-splitter.js';
import { storeLayout } from './store-layout.js';

export interface UploadWriterArgs {
  batchId: string;
  /** Proves this upload holds the batch's upload lease. */
  token: string;
  /** Where an interrupted earlier upload stopped: parts written, physical lines and lines stored. */
  resume: { parts: number; physical: number; total: number };
  records: BatchRecords;
  store: ObjectStore;
  options: FilledBatchOptions;
  /** Called once the batch is sealed (the local driver can start on it at once). */
  onSealed?: () => void;
}

/**
 * Writes one upload into the batch store, in parts of whole lines, and records each part in
 * Redis once it is stored: nothing is enqueued while uploading, so an upload of any size costs
 * Redis a few fields. A crash or a cut connection loses at most the part being written; the
 * same upload sent again (same idempotency key) skips the lines already stored and continues.
 *
 * The upload lease is renewed on a timer while the request runs, so a slow client keeps its
 * batch, and a second upload with the same key gets `batch_busy` instead of taking over.
 */
export class BatchUploadWriter {
  readonly batchId: string;
  /** Physical lines already stored by an earlier upload: the caller's lines up to this number are skipped. */
  readonly resumeFrom: number;
  private part: number;
  /** Lines taken: recorded in Redis, being written, or pending. */
  private taken: number;
  private lastNumber: number;
  private pending: string[] = [];
  private pendingBytes = 0;
  private pendingLines = 0;
  /** The part being written while the next one is read: at most one, so parts land in order. */
  private writing?: Promise<void>;
  private lost?: RerankPoolError;
  private finished = false;
  private readonly renewal: NodeJS.Timeout;

  constructor(private readonly args: UploadWriterArgs) {
    this.batchId = args.batchId;
    this.resumeFrom = args.resume.physical;
    this.part = args.resume.parts;
    this.taken = args.resume.total;
    this.lastNumber = args.resume.physical;
    const { uploadLeaseMs, retentionSeconds } = args.options;
    this.renewal = setInterval(() => {
      args.records.renewUpload(this.batchId, args.token, uploadLeaseMs, retentionSeconds).then(
        (held) => {
          if (!held) this.lost ??= Errors.batchBusy(this.batchId, Math.ceil(uploadLeaseMs / 1000));
        },
        // A failed renewal is retried by the next tick; the part commits renew it too.
        () => undefined,
      );
    }, Math.max(1, Math.floor(uploadLeaseMs / 3)));
    this.renewal.unref();
  }

  /** Adds one line (physical number and text, or a too-long line's size). Lines an earlier upload stored are skipped. */
  async append(line: RawLine): Promise<void> {
    if (this.lost) throw this.lost;
    if (line.number <= this.resumeFrom) return;
    const { maxLines, partBytes, partLines } = this.args.options;
    if (this.taken + 1 > maxLines) throw Errors.payloadTooLarge(`a batch holds at most ${maxLines} lines (BATCH_MAX_LINES)`);
    this.taken += 1;
    // Blank lines are written where they were, so line numbers (the default ids) survive.
    for (let gap = this.lastNumber + 1; gap < line.number; gap++) this.pending.push('');
    const text = 'text' in line ? line.text : tooLongMarker(line.tooLongBytes);
    this.pending.push(text);
    this.pendingBytes += Buffer.byteLength(text) + 1;
    this.pendingLines += 1;
    this.lastNumber = line.number;
    if (this.pendingBytes < partBytes && this.pendingLines < partLines) return;
    // Reading the next part overlaps storing this one; the previous write is awaited first, so
    // parts land in order and the request stream still feels back-pressure.
    await this.writing;
    this.writing = this.writePart();
    // Its failure is reported by the next await of it; this only keeps Node from calling it unhandled meanwhile.
    this.writing.catch(() => undefined);
  }

  /** Stores the last part and hands the batch to the drivers; it finishes when its lines do. */
  async seal(): Promise<number> {
    await this.writing;
    await this.writePart();
    const { records } = this.args;
    // Listed before it is sealed: a crash in between leaves a listed, unsealed batch (skipped
    // until it is sealed or expires), never a sealed batch no driver knows of.
    await records.addActive(this.batchId);
    const sealed = await records.seal(this.batchId, this.args.token);
    if (sealed < 0) throw this.lostBatch(sealed);
    this.stop();
    this.args.onSealed?.();
    return this.taken;
  }

  /** Gives the batch up for now: the lease is released so the same upload sent again can continue it. */
  async abort(): Promise<void> {
    if (this.finished) return;
    this.stop();
    this.pending = [];
    await this.writing?.catch(() => undefined);
    await this.args.records.releaseUpload(this.batchId, this.args.token);
  }

  private stop(): void {
    this.finished = true;
    clearInterval(this.renewal);
  }

  private async writePart(): Promise<void> {
    if (this.pendingLines === 0) return;
    const lines = this.pending;
    const count = this.pendingLines;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingLines = 0;
    const { records, store, token, options } = this.args;
    const part = this.part;
    try {
      await store.put(storeLayout.inputPart(this.batchId, part, token), `${lines.join('\n')}\n`);
    } catch (error) {
      throw Errors.unavailable(`the batch store could not take part ${part} of the upload: ${(error as Error).message}`, error);
    }
    const recorded = await records.commitPart(
      this.batchId,
      token,
      // Blank lines included: the batch's physical count is where a resumed upload continues.
      { number: part, lines: count, physical: lines.length },
      { leaseMs: options.uploadLeaseMs, retentionSeconds: options.retentionSeconds, maxLines: options.maxLines },
    );
    if (recorded < 0) throw this.lostBatch(recorded);
    this.part = part + 1;
  }

  /** A script refused the part: the batch expired, another upload or a cancel took it over, or it is too long. */
  private lostBatch(code: number): RerankPoolError {
    this.stop();
    if (code === -2) return Errors.batchNotFound(this.batchId);
    if (code === -5) return Errors.payloadTooLarge(`a batch holds at most ${this.args.options.maxLines} lines (BATCH_MAX_LINES)`);
    return Errors.batchBusy(this.batchId, Math.ceil(this.args.options.uploadLeaseMs / 1000));
  }
}
