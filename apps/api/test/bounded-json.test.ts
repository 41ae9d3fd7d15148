import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonLimitError, JsonScanner, parseBoundedJson } from '../src/bounded-json.js';
import type { JsonLimits } from '../src/bounded-json.js';

const SEED = 20240610;
const unlimited: JsonLimits = { maxDepth: Number.POSITIVE_INFINITY, maxValues: Number.POSITIVE_INFINITY };

/** Nesting depth and number of values (keys included) of a parsed value: what the scan must find in its text. */
function measure(value: unknown): { depth: number; values: number } {
  if (typeof value !== 'object' || value === null) return { depth: 0, values: 1 };
  const children = Array.isArray(value) ? value : Object.values(value);
  let depth = 0;
  let values = 1 + (Array.isArray(value) ? 0 : children.length);
  for (const child of children) {
    const inner = measure(child);
    depth = Math.max(depth, inner.depth);
    values += inner.values;
  }
  return { depth: depth + 1, values };
}

/** The text's UTF-8 bytes fed in pieces cut at `cuts` (as a socket delivers them). */
function scanInChunks(text: string, limits: JsonLimits, cuts: number[]): void {
  const bytes = Buffer.from(text);
  const scanner = new JsonScanner(limits);
  let start = 0;
  for (const cut of [...cuts.map((fraction) => Math.floor(fraction * bytes.length)).sort((a, b) => a - b), bytes.length]) {
    scanner.feed(bytes.subarray(start, Math.max(start, cut)));
    start = Math.max(start, cut);
  }
}

function refusal(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof JsonLimitError) return error.reason;
    throw error;
  }
}

// Strings full of what a scan can trip on: quotes, backslashes, brackets, multi-byte characters.
const trickyString = fc.string({ unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', ',', ':', 'a', 'é', '😀', '\n', '\u0000') });
const jsonValue = fc.oneof(
  fc.jsonValue({ maxDepth: 6, stringUnit: 'binary' }),
  fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, trickyString, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(trickyString, tie('value'), { maxKeys: 3 })),
  })).value,
);
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

describe('when JSON text is scanned', () => {
  it('should find the depth and value count of the parsed value, however the bytes are cut', () => {
    fc.assert(
      fc.property(jsonValue, cuts, fc.boolean(), (value, at, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        const { depth, values } = measure(JSON.parse(text));
        expect(refusal(() => scanInChunks(text, { maxDepth: depth, maxValues: values }, at))).toBeUndefined();
        if (depth > 0) expect(refusal(() => scanInChunks(text, { maxDepth: depth - 1, maxValues: values }, at))).toMatch(/nesting deeper than MAX_JSON_DEPTH/);
        expect(refusal(() => scanInChunks(text, { maxDepth: depth, maxValues: values - 1 }, at))).toMatch(/more than \d+ JSON values/);
        // The same text as a JS string (a batch line) scans the same.
        expect(refusal(() => new JsonScanner({ maxDepth: depth, maxValues: values }).feed(text))).toBeUndefined();
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('should refuse a deep body after reading only as far as the limit', () => {
    const scanner = new JsonScanner({ maxDepth: 16, maxValues: 1000 });
    const head = Buffer.from(`{"query":"q","documents":["a"],"x":${'['.repeat(20)}`);
    expect(() => scanner.feed(head)).toThrow('has nesting deeper than MAX_JSON_DEPTH (16)');
  });

  it('should not count brackets, quotes or escapes inside strings', () => {
    const text = JSON.stringify({ query: '[[[[{{{{"\\', documents: ['\\"]]]]', '\\\\', 'a\\"b'] });
    expect(refusal(() => new JsonScanner({ maxDepth: 2, maxValues: 8 }).feed(text))).toBeUndefined();
    // An escape cut between two chunks still escapes.
    const scanner = new JsonScanner({ maxDepth: 1, maxValues: 10 });
    scanner.feed(Buffer.from('["a\\'));
    scanner.feed(Buffer.from('"[[[[[", "b"]'));
    expect(scanner.valueCount).toBe(3);
  });
});

describe('when a body holds keys that could poison prototypes', () => {
  it.each([
    ['a top-level __proto__', '{"__proto__":{"isAdmin":true}}', '__proto__'],
    ['an escaped __proto__', '{"\\u005f_proto__":{"x":1}}', '__proto__'],
    ['a __proto__ in an object document', '{"documents":[{"text":"a","__proto__":{}}]}', 'documents[0].__proto__'],
    ['constructor.prototype', '{"query":"q","constructor":{"prototype":{"x":1}}}', 'constructor.prototype'],
  ])('should refuse %s, naming where it is', (_name, text, where) => {
    expect(refusal(() => parseBoundedJson(text, unlimited))).toBe(`has a key ${where}, refused because it could poison object prototypes`);
  });

  it('should accept such words as values and a plain constructor key', () => {
    expect(parseBoundedJson('{"query":"__proto__","documents":["constructor.prototype"],"constructor":"x"}', unlimited)).toEqual({
      query: '__proto__',
      documents: ['constructor.prototype'],
      constructor: 'x',
    });
  });
});
