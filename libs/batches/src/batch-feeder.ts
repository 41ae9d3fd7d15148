import type { RerankJobData } from '@rerank-pool/contracts';
import { SEGMENT_LINES } from './batch-keys.js';
import type { FilledBatchOptions } from './batch-options.js';
import type { BatchRecords, FeedChunk } from './batch-records.js';
import type { BatchState, InputCursor } from './batch-state.js';
import type { InputLine, InputSource } from './input-source.js';
import type { LineParser } from './line-parser.js';
import type { LineJobs } from './line-jobs.js';
import { errorLine } from './result-lines.js';
import { DriverLeaseLost, InputShrank, InputUnreadable, StaleBatchState } from './driver-errors.js';

export interface BatchFeederArgs {
  batchId: string;
  token: string;
  records: BatchRecords;
  input: InputSource;
  parser: LineParser;
  jobs: LineJobs;
  options: FilledBatchOptions;
}

function sameCursor(a: InputCursor | undefined, b: InputCursor): boolean {
  return a !== undefined && a.part === b.part && a.offset === b.offset && a.physical === b.physical;
}

/**
 * Keeps a batch's window full: reads the next lines of its input, records them (cursor, bytes,
 * ids, rejected lines) and adds their jobs, a chunk at a time, while the window has room. The
 * input stream stays open between top-ups, so a long batch is read once, front to back.
 */
export class BatchFeeder {
  private reader?: AsyncGenerator<InputLine>;
  private position?: InputCursor;
  private peeked?: InputLine;

  constructor(private readonly args: BatchFeederArgs) {}

  /**
   * Adds the jobs of a feed that a previous driver recorded but may not have finished adding.
   * Lines settled since (or rejected at the feed) get no job; BullMQ ignores ids it still has.
   */
  async recoverPending(state: BatchState): Promise<void> {
    const pending = state.pending;
    if (!pending) return;
    const { batchId, token, records, jobs } = this.args;
    if (state.cancelledAt === undefined) {
      const lines = await this.read(pending.cursor, pending.to - pending.from, Number.POSITIVE_INFINITY);
      const open = new Set(await records.unsettledIn(batchId, state, pending.from, pending.to));
      const recovered = this.build(state, pending.from, lines).jobs.filter(({ index }) => open.has(index));
      await jobs.add(batchId, recovered);
    }
    if ((await records.feedEnd(batchId, token, pending.to)) < 0) throw new DriverLeaseLost(batchId);
    state.pending = undefined;
  }

  /**
   * Feeds while the window has room for at least a useful chunk, and returns how many lines it
   * fed. `state` is updated in place as the scripts confirm each chunk.
   */
  async topUp(state: BatchState): Promise<number> {
    const { windowLines, windowBytes, feedChunkLines } = this.args.options;
    // Waiting for this much room keeps chunks large; the tick comes back long before workers drain the rest.
    const threshold = Math.max(1, Math.min(feedChunkLines, Math.ceil(windowLines / 8)));
    let fed = 0;
    for (;;) {
      if (!state.inputComplete || state.cancelledAt !== undefined || state.tail || state.pending || state.fed >= state.total) return fed;
      const room = windowLines - (state.fed - state.flushed);
      const byteRoom = windowBytes - state.windowBytes;
      if (room < Math.min(threshold, state.total - state.fed) || byteRoom <= 0) return fed;
      const want = Math.min(room, feedChunkLines, SEGMENT_LINES - (state.fed % SEGMENT_LINES), state.total - state.fed);
      const lines = await this.read(state.feedCursor, want, byteRoom);
      if (lines.length === 0) throw new InputShrank(this.args.batchId, state.fed, state.total);
      await this.feed(state, lines);
      fed += lines.length;
    }
  }

  async close(): Promise<void> {
    await this.reader?.return(undefined);
    this.reader = undefined;
  }

  private async feed(state: BatchState, lines: readonly InputLine[]): Promise<void> {
    const { batchId, token, records, jobs } = this.args;
    const from = state.fed;
    const end = lines[lines.length - 1]!.cursor;
    const { chunk, jobs: added } = this.build(state, from, lines);
    const first = await records.feedBegin(batchId, token, state.feedCursor, end, from, chunk);
    if (first < 0) {
      // The lines read were not fed: the next read starts again from the recorded cursor.
      this.position = undefined;
      if (first === -1) throw new DriverLeaseLost(batchId);
      // Cancelled, given up, or a feed pending: the caller reads the state again.
      throw new StaleBatchState(batchId);
    }
    state.fed = from + lines.length;
    state.feedCursor = end;
    state.windowBytes += chunk.lines.reduce((sum, line) => sum + line.bytes, 0);
    await jobs.add(batchId, added);
    if ((await records.feedEnd(batchId, token, state.fed)) < 0) throw new DriverLeaseLost(batchId);
  }

  private build(state: BatchState, from: number, lines: readonly InputLine[]): { chunk: FeedChunk; jobs: { index: number; data: RerankJobData }[] } {
    const chunk: FeedChunk = { lines: [], pairs: 0, failures: [] };
    const jobs: { index: number; data: RerankJobData }[] = [];
    const context = { tenant: state.tenant, trace: state.trace };
    lines.forEach((line, offset) => {
      const index = from + offset;
      const parsed = this.args.parser.parse(line, context);
      chunk.lines.push({ bytes: line.bytes, id: parsed.id });
      if ('error' in parsed) {
        chunk.failures.push([index, errorLine(parsed.id, index, parsed.error)]);
        return;
      }
      chunk.pairs += parsed.job.documents.length;
      jobs.push({ index, data: { ...parsed.job, batch: { id: this.args.batchId, index, line: parsed.id } } });
    });
    return { chunk, jobs };
  }

  private async next(): Promise<InputLine | undefined> {
    try {
      return (await this.reader!.next()).value ?? undefined;
    } catch (error) {
      // The stream is dead: the next read opens a new one at the recorded cursor.
      this.reader = undefined;
      this.position = undefined;
      throw new InputUnreadable(this.args.batchId, error);
    }
  }

  /** Up to `max` lines from `cursor`, stopping before a line that would pass `byteRoom` (the first line always comes). */
  private async read(cursor: InputCursor, max: number, byteRoom: number): Promise<InputLine[]> {
    if (!sameCursor(this.position, cursor)) {
      await this.close();
      this.peeked = undefined;
      this.reader = this.args.input.lines(cursor);
      this.position = cursor;
    }
    const lines: InputLine[] = [];
    let bytes = 0;
    while (lines.length < max) {
      const line = this.peeked ?? (await this.next());
      this.peeked = undefined;
      if (!line) break;
      if (lines.length > 0 && bytes + line.bytes > byteRoom) {
        this.peeked = line;
        break;
      }
      lines.push(line);
      bytes += line.bytes;
      this.position = line.cursor;
    }
    return lines;
  }
}
