import { Errors } from '@rerank-pool/contracts';
import type { RerankPoolError } from '@rerank-pool/contracts';
import type { ObjectStore } from '@rerank-pool/object-store';
import type { BatchState } from './batch-state.js';
import type { InputSource } from './input-source.js';
import type { LineParser } from './line-parser.js';
import { splitLines } from './line-splitter.js';
import { errorLine } from './result-lines.js';
import { storeLayout } from './store-layout.js';

/** One `index<TAB>line` row of a results part. */
interface Row {
  index: number;
  line: string;
}

/** A results part being read: its next row, and the rest. */
interface OpenPart {
  row: Row;
  rows: AsyncIterator<Row>;
}

export interface ResultsMergeArgs {
  batchId: string;
  store: ObjectStore;
  /** The batch's input, for the ids of a never-fed tail. */
  input: InputSource;
  parser: LineParser;
  maxLineBytes: number;
  /** Called for a line no part holds (a bug, or a store that lost a part): it gets an error line. */
  onMissing?: (index: number) => void;
}

/** Result lines are written out in blocks of about this size: one per line would cost a call each. */
const BLOCK_BYTES = 256 * 1024;

async function* partRows(store: ObjectStore, key: string, maxLineBytes: number): AsyncGenerator<Row> {
  // Result lines are bounded by what a worker produced from a bounded input line.
  for await (const line of splitLines(await store.read(key), { maxLineBytes: maxLineBytes * 4 + 1024 })) {
    if (!('text' in line)) throw new Error(`results part ${key}: line ${line.number} is ${line.tooLongBytes} bytes`);
    const tab = line.text.indexOf('\t');
    yield { index: Number(line.text.slice(0, tab)), line: line.text.slice(tab + 1) };
  }
}

/** A binary min-heap of open parts by their next row's index. */
class PartHeap {
  private readonly items: OpenPart[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): OpenPart | undefined {
    return this.items[0];
  }

  push(part: OpenPart): void {
    const items = this.items;
    items.push(part);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.row.index <= items[i]!.row.index) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  pop(): OpenPart | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && items[left]!.row.index < items[smallest]!.row.index) smallest = left;
        if (right < items.length && items[right]!.row.index < items[smallest]!.row.index) smallest = right;
        if (smallest === i) break;
        [items[smallest], items[i]] = [items[i]!, items[smallest]!];
        i = smallest;
      }
    }
    return top;
  }
}

/**
 * The finished results of a batch in input order, one NDJSON line per input line, each exactly
 * once: a merge of its results parts (each sorted, named by its first index, opened only once
 * the merge reaches that index, so the parts open at a time are the few that overlap) and, for a
 * batch that stopped feeding, error lines for the lines never fed, with their ids from the input.
 * A line found in two parts (a part written twice across a crash) is written once.
 */
export async function* mergedResults(state: BatchState, args: ResultsMergeArgs): AsyncGenerator<Buffer> {
  const { batchId, store, maxLineBytes } = args;
  const parts: { first: number; key: string }[] = [];
  for await (const key of store.list(storeLayout.resultsParts(batchId))) {
    const first = storeLayout.resultsPartFirstIndex(key);
    if (first !== undefined) parts.push({ first, key });
  }
  parts.sort((a, b) => a.first - b.first || (a.key < b.key ? -1 : 1));

  const fedEnd = state.tail ? state.tail.from : state.total;
  const heap = new PartHeap();
  let nextPart = 0;
  let block: string[] = [];
  let blockBytes = 0;
  const emit = (line: string): Buffer | undefined => {
    block.push(line, '\n');
    blockBytes += line.length + 1;
    if (blockBytes < BLOCK_BYTES) return undefined;
    const out = Buffer.from(block.join(''));
    block = [];
    blockBytes = 0;
    return out;
  };
  const advance = async (part: OpenPart): Promise<void> => {
    const next = await part.rows.next();
    if (!next.done) heap.push({ row: next.value, rows: part.rows });
  };

  for (let expected = 0; expected < fedEnd; ) {
    while (nextPart < parts.length && parts[nextPart]!.first <= expected) {
      const rows = partRows(store, parts[nextPart]!.key, maxLineBytes);
      nextPart += 1;
      const first = await rows.next();
      if (!first.done) heap.push({ row: first.value, rows });
    }
    const top = heap.peek();
    if (top && top.row.index < expected) {
      // A copy of a line already written.
      await advance(heap.pop()!);
      continue;
    }
    let line: string;
    if (top && top.row.index === expected) {
      line = top.row.line;
      await advance(heap.pop()!);
    } else {
      // No part holds this line: every settled line was flushed before finishing, so this is a lost part.
      args.onMissing?.(expected);
      line = errorLine(expected + 1, expected, Errors.internal(`the result of line ${expected} was lost from the batch store`));
    }
    expected += 1;
    const out = emit(line);
    if (out) yield out;
  }

  if (state.tail && state.tail.from < state.total) {
    const error: RerankPoolError =
      state.tail.outcome === 'cancelled'
        ? Errors.lineCancelled(batchId)
        : Errors.unavailable(`the line was not run: ${state.error ?? 'the input could not be read'}`);
    let index = state.tail.from;
    for await (const line of args.input.lines(state.feedCursor)) {
      if (index >= state.total) break;
      const out = emit(errorLine(args.parser.idOf(line), index, error));
      index += 1;
      if (out) yield out;
    }
    // An input that shrank after it was counted: the rest keep their line numbers as ids.
    for (; index < state.total; index++) {
      const out = emit(errorLine(index + 1, index, error));
      if (out) yield out;
    }
  }
  if (block.length > 0) yield Buffer.from(block.join(''));
}
