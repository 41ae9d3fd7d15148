import type { Config } from '@rerank-pool/config';
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, isWhitespace, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-chars.js';

/** What a JSON body (or one batch line) may hold before it is refused unparsed. */
export interface JsonLimits {
  /** Deepest nesting of arrays and objects (MAX_JSON_DEPTH). */
  maxDepth: number;
  /** Most values, keys included: what the parsed body costs in heap grows with this, not with its bytes. */
  maxValues: number;
}

/**
 * Values a body may hold: every documented body needs a few per document (a string, or an object
 * with its keys), so 64 per document leaves room for metadata in object documents. Each value
 * costs at most ~200 bytes of heap once parsed (an object with a key of its own), so these few
 * MB are all a body can cost beyond its own bytes: a 25 MB `[{},{},…]` would have cost 530 MB.
 */
export function jsonLimitsFor(config: Pick<Config, 'maxJsonDepth' | 'maxDocuments'>): JsonLimits {
  return { maxDepth: config.maxJsonDepth, maxValues: 64 * config.maxDocuments + 1024 };
}

/** A body over a limit, or a key that could poison prototypes; `reason` completes "the body …" or "line 3 …". */
export class JsonLimitError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'JsonLimitError';
  }
}

/**
 * A linear pre-scan of JSON text, fed chunk by chunk as it arrives: it follows strings and their
 * escapes, the nesting depth and the number of values, and throws `JsonLimitError` the moment a
 * limit is passed, so a hostile body is refused after its first bytes instead of costing a parse
 * (a 25 MB `[[[[…]]]]` took JSON.parse 8.6 s and 1.46 GB). It does not validate: JSON.parse does
 * that afterwards, on text the scan has shown to be cheap to parse. Bytes and UTF-16 code units
 * scan alike: every structural character is ASCII, and no byte of a multi-byte UTF-8 character is.
 */
export class JsonScanner {
  private depth = 0;
  private values = 0;
  private inString = false;
  private escaped = false;
  /** The next non-blank character starts a value (or a key), unless it closes its container. */
  private expectValue = true;
  private readonly depthLimit: number;

  /** `outerLevels`: levels around the content that the depth limit does not count (a batch's array). */
  constructor(
    private readonly limits: JsonLimits,
    outerLevels = 0,
  ) {
    this.depthLimit = limits.maxDepth + outerLevels;
  }

  /** Values (keys included) seen so far. */
  get valueCount(): number {
    return this.values;
  }

  feed(chunk: Uint8Array | string): void {
    const text = typeof chunk === 'string' ? chunk : undefined;
    const bytes = typeof chunk === 'string' ? undefined : chunk;
    let i = 0;
    while (i < chunk.length) {
      if (this.inString) i = this.skipString(chunk, i);
      else this.step(text === undefined ? bytes![i++] : text.charCodeAt(i++));
    }
  }

  /**
   * The rest of a string, found with indexOf (native, many times faster than a loop here, and
   * strings are most of a large body's bytes): the index after its closing quote, or the end.
   * Backslashes are looked for only before the next quote, so every byte is searched once.
   */
  private skipString(chunk: Uint8Array | string, from: number): number {
    const end = chunk.length;
    let i = from;
    if (this.escaped) {
      this.escaped = false;
      i++;
    }
    let quote = -1;
    while (i < end) {
      if (quote < i) {
        quote = typeof chunk === 'string' ? chunk.indexOf('"', i) : chunk.indexOf(QUOTE, i);
        if (quote === -1) quote = end;
      }
      const before = typeof chunk === 'string' ? chunk.slice(i, quote).indexOf('\\') : chunk.subarray(i, quote).indexOf(BACKSLASH);
      if (before === -1) {
        if (quote === end) return end;
        this.inString = false;
        return quote + 1;
      }
      const backslash = i + before;
      if (backslash + 1 >= end) {
        this.escaped = true;
        return end;
      }
      i = backslash + 2;
    }
    return end;
  }

  private step(code: number): void {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (code === BACKSLASH) this.escaped = true;
      else if (code === QUOTE) this.inString = false;
      return;
    }
    if (isWhitespace(code)) return;
    if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      this.depth--;
      this.expectValue = false;
      return;
    }
    if (code === COMMA || code === COLON) {
      this.expectValue = true;
      return;
    }
    if (this.expectValue && ++this.values > this.limits.maxValues) {
      throw new JsonLimitError(`holds more than ${this.limits.maxValues} JSON values (keys count too): 64 per document of MAX_DOCUMENTS, plus 1024`);
    }
    this.expectValue = false;
    if (code === QUOTE) {
      this.inString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++this.depth > this.depthLimit) {
        throw new JsonLimitError(`has nesting deeper than MAX_JSON_DEPTH (${this.limits.maxDepth})`);
      }
      this.expectValue = true;
    }
  }
}

function pathTo(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

/**
 * The first key that could poison a prototype once the value is merged into another object:
 * an own `__proto__` (JSON.parse makes it an ordinary key), or `constructor` holding `prototype`.
 * The scan's limits bound this walk's depth and length.
 */
function poisonedKey(value: unknown, path: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = poisonedKey(value[index], pathTo(path, index));
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const record = value as Record<string, unknown>;
  if (Object.hasOwn(record, '__proto__')) return pathTo(path, '__proto__');
  const constructor = Object.hasOwn(record, 'constructor') ? record.constructor : undefined;
  if (typeof constructor === 'object' && constructor !== null && Object.hasOwn(constructor, 'prototype')) {
    return pathTo(pathTo(path, 'constructor'), 'prototype');
  }
  for (const key of Object.keys(record)) {
    const found = poisonedKey(record[key], pathTo(path, key));
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * JSON.parse of text a `JsonScanner` has already passed, refusing prototype-poisoning keys
 * (rejected rather than dropped: no client sends them on purpose, and a silently changed body
 * would be worse). Throws the parser's SyntaxError for invalid JSON, `JsonLimitError` for a key.
 */
export function parseScannedJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const key = poisonedKey(value, '');
  if (key !== undefined) {
    throw new JsonLimitError(`has a key ${key}, refused because it could poison object prototypes`);
  }
  return value;
}

/** Scan, then parse: a whole text (one batch line, one element of a batch array) within `limits`. */
export function parseBoundedJson(text: string, limits: JsonLimits): unknown {
  new JsonScanner(limits).feed(text);
  return parseScannedJson(text);
}
