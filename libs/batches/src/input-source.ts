import type { ObjectStore } from '@rerank-pool/object-store';
import type { InputCursor } from './batch-state.js';
import { splitLines } from './line-splitter.js';
import type { RawLine } from './line-splitter.js';
import { storeLayout } from './store-layout.js';

/** A line of a batch's input and the cursor just past it. */
export type InputLine = RawLine & { cursor: InputCursor; bytes: number };

/** A batch's input, read from any cursor on. */
export interface InputSource {
  lines(from: InputCursor): AsyncGenerator<InputLine>;
}

/**
 * How an upload stores a line longer than the line limit: a marker and its size, since the
 * bytes themselves were never kept. No JSON text starts with this control character.
 */
export const TOO_LONG_MARKER = '\u0001';

export function tooLongMarker(bytes: number): string {
  return `${TOO_LONG_MARKER}${bytes}`;
}

/**
 * A by-reference input: one NDJSON object, read with ranged reads from the cursor's offset (a
 * read that starts at or past the end yields nothing).
 */
export class ReferencedInput implements InputSource {
  constructor(
    private readonly store: ObjectStore,
    private readonly key: string,
    private readonly maxLineBytes: number,
  ) {}

  async *lines(from: InputCursor): AsyncGenerator<InputLine> {
    const source = await this.store.read(this.key, { start: from.offset });
    for await (const line of splitLines(source, { maxLineBytes: this.maxLineBytes, startOffset: from.offset, linesBefore: from.physical })) {
      yield { ...line, cursor: { part: 0, offset: line.end, physical: line.number } };
    }
  }
}

/**
 * An uploaded input: the parts the upload wrote to the batch store, in order. A part's name
 * holds the token of the upload session that wrote it (see `storeLayout.inputPart`); parts
 * hold whole lines, so a cursor at a part's end reads nothing there and continues at the next
 * part's start. A missing part fails the read (`not_found`).
 */
export class UploadedInput implements InputSource {
  constructor(
    private readonly store: ObjectStore,
    private readonly batchId: string,
    private readonly upload: { parts: number; sessions: readonly [part: number, token: string][] },
    private readonly maxLineBytes: number,
  ) {}

  private partKey(part: number): string {
    let token: string | undefined;
    for (const [first, sessionToken] of this.upload.sessions) if (first <= part) token = sessionToken;
    if (token === undefined) throw new Error(`batch ${this.batchId} has no upload session for input part ${part}`);
    return storeLayout.inputPart(this.batchId, part, token);
  }

  async *lines(from: InputCursor): AsyncGenerator<InputLine> {
    let { part, offset, physical } = from;
    for (; part < this.upload.parts; part++, offset = 0) {
      const source = await this.store.read(this.partKey(part), { start: offset });
      for await (const line of splitLines(source, { maxLineBytes: this.maxLineBytes, startOffset: offset, linesBefore: physical })) {
        const cursor = { part, offset: line.end, physical: line.number };
        const tooLong = 'text' in line && line.text.startsWith(TOO_LONG_MARKER);
        yield tooLong ? { number: line.number, tooLongBytes: Number(line.text.slice(1)), cursor, bytes: line.bytes } : { ...line, cursor };
        // The upload writes blank lines just before the line that follows them, never at a part's end.
        physical = line.number;
      }
    }
  }
}
