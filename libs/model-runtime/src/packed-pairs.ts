import type { EncodedPair } from './pair-encoder.js';

/**
 * Encoded pairs as views over one ArrayBuffer, so a whole set moves between threads with a
 * single transfer instead of a structured clone of thousands of small arrays.
 *
 * Layout: Int32 header [count, totalTokens], Int32 offsets[count + 1], Int32 chunk[count],
 * Int32 chunkStart[count], Int32 ids[totalTokens], then Uint8 typeIds[totalTokens], Uint8 truncated[count].
 *
 * Rows are in document order; a document scored by chunks has one row per chunk, consecutive,
 * with `chunk` 0, 1, 2, … (a row whose `chunk` is 0 starts the next document).
 */
export interface PackedPairs {
  readonly buffer: ArrayBuffer;
  readonly count: number;
  readonly offsets: Int32Array;
  readonly ids: Int32Array;
  readonly typeIds: Uint8Array;
  readonly truncated: Uint8Array;
  /** Each row's chunk index within its document (0 for a document that is one row). */
  readonly chunk: Int32Array;
  /** Each row's first document token (in the document's whole tokenization). */
  readonly chunkStart: Int32Array;
}

const HEADER = 2;

function allocate(count: number, totalTokens: number): PackedPairs {
  const int32s = HEADER + count + 1 + 2 * count + totalTokens;
  const buffer = new ArrayBuffer(int32s * 4 + totalTokens + count);
  const header = new Int32Array(buffer, 0, HEADER);
  header[0] = count;
  header[1] = totalTokens;
  return view(buffer);
}

/** Re-creates the views over a buffer that arrived from another thread. */
export function view(buffer: ArrayBuffer): PackedPairs {
  const [count, totalTokens] = new Int32Array(buffer, 0, HEADER) as unknown as [number, number];
  const offsets = new Int32Array(buffer, HEADER * 4, count + 1);
  const chunk = new Int32Array(buffer, (HEADER + count + 1) * 4, count);
  const chunkStart = new Int32Array(buffer, (HEADER + 2 * count + 1) * 4, count);
  const ids = new Int32Array(buffer, (HEADER + 3 * count + 1) * 4, totalTokens);
  const bytesStart = (HEADER + 3 * count + 1 + totalTokens) * 4;
  return {
    buffer,
    count,
    offsets,
    ids,
    typeIds: new Uint8Array(buffer, bytesStart, totalTokens),
    truncated: new Uint8Array(buffer, bytesStart + totalTokens, count),
    chunk,
    chunkStart,
  };
}

export function pack(pairs: readonly EncodedPair[]): PackedPairs {
  const total = pairs.reduce((sum, pair) => sum + pair.ids.length, 0);
  const packed = allocate(pairs.length, total);
  let at = 0;
  pairs.forEach((pair, i) => {
    packed.offsets[i] = at;
    packed.ids.set(pair.ids, at);
    packed.typeIds.set(pair.typeIds, at);
    packed.truncated[i] = pair.truncated ? 1 : 0;
    packed.chunk[i] = pair.chunk ?? 0;
    packed.chunkStart[i] = pair.chunkStart ?? 0;
    at += pair.ids.length;
  });
  packed.offsets[pairs.length] = at;
  return packed;
}

export function pairLength(packed: PackedPairs, index: number): number {
  return packed.offsets[index + 1]! - packed.offsets[index]!;
}

/** A reference to one row of some packed set: how batches name rows from many jobs. */
export interface RowRef {
  source: PackedPairs;
  index: number;
}

/** Copies the referenced rows, in order, into a new packed set. */
export function gather(rows: readonly RowRef[]): PackedPairs {
  const total = rows.reduce((sum, row) => sum + pairLength(row.source, row.index), 0);
  const packed = allocate(rows.length, total);
  let at = 0;
  rows.forEach((row, i) => {
    const start = row.source.offsets[row.index]!;
    const end = row.source.offsets[row.index + 1]!;
    packed.offsets[i] = at;
    packed.ids.set(row.source.ids.subarray(start, end), at);
    packed.typeIds.set(row.source.typeIds.subarray(start, end), at);
    packed.truncated[i] = row.source.truncated[row.index]!;
    packed.chunk[i] = row.source.chunk[row.index]!;
    packed.chunkStart[i] = row.source.chunkStart[row.index]!;
    at += end - start;
  });
  packed.offsets[rows.length] = at;
  return packed;
}

/** Joins several packed sets into one (used when a request is encoded in chunks on several threads). */
export function concat(parts: readonly PackedPairs[]): PackedPairs {
  const rows: RowRef[] = [];
  for (const source of parts) for (let index = 0; index < source.count; index++) rows.push({ source, index });
  return gather(rows);
}
