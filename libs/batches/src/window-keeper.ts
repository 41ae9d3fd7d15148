import { Errors } from '@rerank-pool/contracts';
import { SEGMENT_LINES } from './batch-keys.js';
import type { BatchRecords, Settlement } from './batch-records.js';
import type { BatchState } from './batch-state.js';
import type { LineJobs } from './line-jobs.js';
import { errorLine } from './result-lines.js';

/** Lines checked per round trip. */
const CHUNK = 1000;

/**
 * Repairs and cancels the lines in a batch's window from durable state (the settled bitmap, the
 * line records and the jobs themselves), never from event streams:
 *
 * - reconcile: a fed line that is not settled and has no job anywhere will never be settled by
 *   a worker (its job failed for good outside a processor, for example after stalling too
 *   often, or was removed by a cancel that crashed before settling it). It is settled here,
 *   failed, or cancelled when the batch is.
 * - cancel: lines whose jobs have not started are removed from their queues and settled
 *   cancelled; running ones finish.
 *
 * Settling is idempotent, so a worker finishing a line at the same moment changes nothing.
 */
export class WindowKeeper {
  constructor(
    private readonly batchId: string,
    private readonly records: BatchRecords,
    private readonly jobs: LineJobs,
  ) {}

  async reconcile(state: BatchState): Promise<number> {
    let settled = 0;
    for (const chunk of await this.unsettledChunks(state)) {
      const missing = await this.jobs.missing(this.batchId, chunk);
      settled += await this.settleAll(state, missing, state.cancelledAt === undefined ? 'failed' : 'cancelled');
    }
    return settled;
  }

  async cancel(state: BatchState): Promise<number> {
    let settled = 0;
    for (const chunk of await this.unsettledChunks(state)) {
      const removed = await this.jobs.removeWaiting(this.batchId, chunk);
      settled += await this.settleAll(state, removed, 'cancelled');
    }
    return settled + (await this.reconcile(state));
  }

  /** Unsettled lines of the window, leaving out a pending feed (its jobs may not exist yet). */
  private async unsettledChunks(state: BatchState): Promise<number[][]> {
    const end = state.pending ? state.pending.from : state.fed;
    const unsettled = await this.records.unsettledIn(this.batchId, state, state.segmentsDone * SEGMENT_LINES, end);
    const chunks: number[][] = [];
    for (let i = 0; i < unsettled.length; i += CHUNK) chunks.push(unsettled.slice(i, i + CHUNK));
    return chunks;
  }

  private async settleAll(state: BatchState, indexes: readonly number[], outcome: 'failed' | 'cancelled'): Promise<number> {
    if (indexes.length === 0) return 0;
    const ids = await this.records.lineIds(this.batchId, indexes);
    const settlements: Settlement[] = indexes.map((index, i) => {
      // Lines of the window always have their id recorded; the line number is the fallback the API uses too.
      const id = ids[i] ?? index + 1;
      const error =
        outcome === 'cancelled'
          ? Errors.lineCancelled(this.batchId)
          : Errors.internal(`the job of line ${index} was lost before it finished (it failed outside a worker, for example after stalling too often); resubmit the line`);
      return { index, outcome, line: errorLine(id, index, error), pairs: 0 };
    });
    await this.records.settleMany(this.batchId, settlements);
    return settlements.length;
  }
}
