import type { ObjectStore } from '@rerank-pool/object-store';
import type { FilledBatchOptions } from './batch-options.js';
import type { BatchRecords } from './batch-records.js';
import { settledLines } from './batch-state.js';
import type { BatchState } from './batch-state.js';
import { DriverLeaseLost } from './driver-errors.js';
import { storeLayout } from './store-layout.js';

export interface ResultsFlusherArgs {
  batchId: string;
  token: string;
  records: BatchRecords;
  store: ObjectStore;
  options: FilledBatchOptions;
}

/** Results lines settled and still in Redis (lines settled as a never-fed tail never were). */
export function resultsInRedis(state: BatchState): number {
  const tail = state.tail ? state.total - state.tail.from : 0;
  return settledLines(state) - tail - state.flushed;
}

/**
 * Moves settled results from Redis to the batch store, a part at a time, in the order lines
 * settled. Each part is sorted by line index and named by its first index, so the finished
 * results are a merge of parts in input order. The part is stored before Redis lets go of its
 * lines: a crash in between leaves a part that the next flush writes again under another name,
 * and the merge keeps one copy of each line.
 */
export class ResultsFlusher {
  private lastFlush = Date.now();

  constructor(private readonly args: ResultsFlusherArgs) {}

  /** Flushes what is due (or everything with `all`), updating `state`; returns lines flushed. */
  async flush(state: BatchState, all = false): Promise<number> {
    let flushed = 0;
    while (this.due(state, all)) {
      const count = await this.flushPart(state);
      if (count === 0) break;
      flushed += count;
    }
    return flushed;
  }

  private due(state: BatchState, all: boolean): boolean {
    const waiting = resultsInRedis(state);
    if (waiting <= 0) return false;
    const { resultsPartLines, windowLines, windowBytes, flushIntervalMs } = this.args.options;
    if (all || waiting >= resultsPartLines) return true;
    // A window mostly held by finished lines starves the feed: free it before a part is full.
    const crowded = state.fed - state.flushed >= windowLines * 0.75 || state.windowBytes >= windowBytes * 0.75;
    return crowded || Date.now() - this.lastFlush >= flushIntervalMs;
  }

  private async flushPart(state: BatchState): Promise<number> {
    const { batchId, token, records, store, options } = this.args;
    const entries = await records.flushHead(batchId, options.resultsPartLines);
    if (entries.length === 0) return 0;
    const lines = await records.resultLines(batchId, entries.map((entry) => entry.index));
    const rows = entries.map((entry, i) => {
      const line = lines[i];
      if (line === null || line === undefined) throw new Error(`batch ${batchId}: line ${entry.index} is queued for flushing but has no result`);
      return { index: entry.index, line };
    });
    rows.sort((a, b) => a.index - b.index);
    const text = rows.map(({ index, line }) => `${index}\t${line}\n`).join('');
    await store.put(storeLayout.resultsPart(batchId, rows[0]!.index, state.flushSeq, token), text);
    const sequence = await records.flushCommit(batchId, token, entries);
    if (sequence < 0) throw new DriverLeaseLost(batchId);
    state.flushSeq = sequence;
    state.flushed += entries.length;
    state.windowBytes -= entries.reduce((sum, entry) => sum + entry.bytes, 0);
    this.lastFlush = Date.now();
    return entries.length;
  }
}
