/** One physical line of an NDJSON body: its text, or only its size when it exceeded the limit. */
export type NdjsonLine = { number: number; text: string } | { number: number; tooLongBytes: number };

const NEWLINE = 0x0a;

/**
 * Splits a byte stream into lines as it arrives, holding at most one line (and never more than
 * `maxLineBytes` of it: a longer line is skipped to its end and reported by size, so one huge
 * line cannot exhaust memory). Splitting bytes at '\n' is safe for UTF-8, which never uses that
 * byte inside a character. Blank lines are skipped but counted, so numbers match an editor's.
 */
export async function* ndjsonLines(source: AsyncIterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<NdjsonLine> {
  let parts: Buffer[] = [];
  let length = 0;
  let number = 0;

  const take = (): NdjsonLine | undefined => {
    number += 1;
    const tooLong = length > maxLineBytes;
    const bytes = length;
    const buffer = tooLong ? undefined : Buffer.concat(parts, length);
    parts = [];
    length = 0;
    if (tooLong) return { number, tooLongBytes: bytes };
    let text = buffer!.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (number === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return text.trim() === '' ? undefined : { number, text };
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
      const line = take();
      if (line) yield line;
      start = end + 1;
    }
    if (start < bytes.length) add(bytes.subarray(start));
  }
  if (length > 0) {
    const line = take();
    if (line) yield line;
  }
}
