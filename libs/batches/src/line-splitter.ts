/** One physical line of NDJSON input: its text, or only its size when it exceeded the limit. */
export type RawLine = { number: number; text: string } | { number: number; tooLongBytes: number };

/** A line with where it ends: `end` is the byte offset just past its newline. */
export type SplitLine = RawLine & { end: number; bytes: number };

export interface SplitOptions {
  /** Longer lines are skipped to their end and reported by size, so one huge line cannot exhaust memory. */
  maxLineBytes: number;
  /** Byte offset of the source's first byte within the input (a ranged read). Default 0. */
  startOffset?: number;
  /** Physical lines before the source's first byte. Default 0. */
  linesBefore?: number;
}

const NEWLINE = 0x0a;

/**
 * Splits a byte stream into lines as it arrives, holding at most one line. Splitting bytes at
 * '\n' is safe for UTF-8, which never uses that byte inside a character. Blank lines are skipped
 * but counted, so numbers match an editor's; a trailing '\r' and a leading byte-order mark are
 * dropped. Each line reports where it ends, so a reader can resume right after it.
 */
export async function* splitLines(source: AsyncIterable<Buffer | string>, options: SplitOptions): AsyncGenerator<SplitLine> {
  const { maxLineBytes } = options;
  let parts: Buffer[] = [];
  let length = 0;
  let number = options.linesBefore ?? 0;
  let position = options.startOffset ?? 0;
  const atStart = position === 0;

  const take = (end: number): SplitLine | undefined => {
    number += 1;
    const bytes = length;
    const tooLong = length > maxLineBytes;
    const buffer = tooLong ? undefined : Buffer.concat(parts, length);
    parts = [];
    length = 0;
    if (tooLong) return { number, tooLongBytes: bytes, end, bytes };
    let text = buffer!.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (atStart && number === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return text.trim() === '' ? undefined : { number, text, end, bytes };
  };

  const add = (segment: Buffer) => {
    length += segment.length;
    // Past the limit only the count is kept; the bytes are dropped as they come.
    if (length <= maxLineBytes) parts.push(segment);
    else parts = [];
  };

  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let end = bytes.indexOf(NEWLINE, start); end >= 0; end = bytes.indexOf(NEWLINE, start)) {
      add(bytes.subarray(start, end));
      const line = take(position + end + 1);
      if (line) yield line;
      start = end + 1;
    }
    if (start < bytes.length) add(bytes.subarray(start));
    position += bytes.length;
  }
  if (length > 0) {
    const line = take(position);
    if (line) yield line;
  }
}
