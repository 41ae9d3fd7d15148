import { setImmediate } from 'node:timers/promises';
import type { RawLine } from '@rerank-pool/batches';
import { Errors } from '@rerank-pool/contracts';
import { JsonLimitError, parseBoundedJson } from './bounded-json.js';
import type { JsonLimits } from './bounded-json.js';
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COMMA, isWhitespace, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-chars.js';

/** Elements read between two turns of the event loop. */
const YIELD_EVERY = 1000;

function firstNonBlank(raw: Buffer, from: number): number {
  let i = from;
  while (i < raw.length && isWhitespace(raw[i])) i++;
  return i;
}

/** The index after the quote closing the string whose content starts at `from`; -1 if none. */
function stringEnd(raw: Buffer, from: number): number {
  let i = from;
  let quote = -1;
  for (;;) {
    if (quote < i) {
      quote = raw.indexOf(QUOTE, i);
      if (quote === -1) return -1;
    }
    const backslash = raw.subarray(i, quote).indexOf(BACKSLASH);
    if (backslash === -1) return quote + 1;
    i += backslash + 2;
  }
}

function notJson(message: string): Error {
  return Errors.invalidRequest(`the body is not valid JSON: ${message}`, 'body');
}

/** Where each element of the JSON array in `raw` lies, found without parsing it. */
function* elementSpans(raw: Buffer): Generator<[start: number, end: number]> {
  let i = firstNonBlank(raw, 0) + 1;
  if (raw[firstNonBlank(raw, i)] === CLOSE_BRACKET) {
    if (firstNonBlank(raw, firstNonBlank(raw, i) + 1) !== raw.length) throw notJson('unexpected data after the array');
    return;
  }
  let start = i;
  let depth = 0;
  while (i < raw.length) {
    const code = raw[i];
    if (code === QUOTE) {
      i = stringEnd(raw, i + 1);
      if (i === -1) throw notJson('a string is not closed');
      continue;
    }
    if (depth === 0 && (code === COMMA || code === CLOSE_BRACKET)) {
      yield [start, i];
      start = i + 1;
      if (code === CLOSE_BRACKET) {
        if (firstNonBlank(raw, i + 1) !== raw.length) throw notJson('unexpected data after the array');
        return;
      }
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      depth++;
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      if (depth === 0) throw notJson(`unexpected "}" at byte ${i} of the array`);
      depth--;
    }
    i++;
  }
  throw notJson('the array is not closed');
}

/**
 * A batch uploaded as a JSON array, read one element at a time as the upload stores it: each
 * element is held to the limits of one request body (MAX_JSON_DEPTH, the value count) and
 * stored as one compact line, so a large array costs its bytes and one element at a time, never
 * the whole parsed array (a 25 MB `[{},{},…]` parsed whole is 530 MB of heap and seconds of a
 * blocked event loop). An element that is not valid JSON fails the upload (400), as a whole-body
 * parse did; a well-formed element with bad fields becomes that line's error, as in NDJSON.
 */
export class JsonArrayLines implements AsyncIterable<RawLine> {
  constructor(
    private readonly raw: Buffer,
    private readonly limits: JsonLimits,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<RawLine> {
    let number = 0;
    for (const [start, end] of elementSpans(this.raw)) {
      number++;
      // The upload stores parts of 100,000 lines: without a pause now and then, reading that
      // many small elements would hold the event loop (and every other request) for a while.
      if (number % YIELD_EVERY === 0) await setImmediate();
      yield { number, text: JSON.stringify(this.element(number, this.raw.toString('utf8', start, end))) };
    }
  }

  private element(number: number, text: string): unknown {
    try {
      return parseBoundedJson(text, this.limits);
    } catch (error) {
      if (error instanceof JsonLimitError) throw Errors.invalidRequest(`element ${number} of the batch array ${error.reason}`, 'body');
      if (error instanceof SyntaxError) throw Errors.invalidRequest(`element ${number} of the batch array is not valid JSON: ${error.message}`, 'body');
      throw error;
    }
  }
}

/** A batch's application/json body: its array as lines, or any other JSON value parsed (a batch by reference). */
export function batchJsonBody(raw: Buffer, limits: JsonLimits): unknown {
  if (raw[firstNonBlank(raw, 0)] === OPEN_BRACKET) return new JsonArrayLines(raw, limits);
  return parseBoundedJson(raw.toString('utf8'), limits);
}
