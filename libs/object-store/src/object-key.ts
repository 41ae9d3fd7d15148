import { ObjectStoreError } from './object-store-error.js';

// S3's limit; applied to both backends so a key valid on disk stays valid in a bucket.
const MAX_KEY_BYTES = 1024;

/** Why `segments` cannot be part of a key, or undefined when they can. */
function segmentProblem(segments: readonly string[]): string | undefined {
  for (const segment of segments) {
    if (segment === '') return 'it has an empty segment';
    if (segment === '.' || segment === '..') return `it has a "${segment}" segment`;
  }
  return undefined;
}

/** Why `key` is not a valid key, or undefined when it is. */
export function keyProblem(key: string): string | undefined {
  if (key === '') return 'it is empty';
  if (key.includes('\0')) return 'it contains a NUL character';
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `it is longer than ${MAX_KEY_BYTES} bytes`;
  if (key.startsWith('/')) return 'it starts with "/"';
  if (key.endsWith('/')) return 'it ends with "/"';
  return segmentProblem(key.split('/'));
}

/** Throws 'invalid_key' unless `key` follows the key rules of ObjectStore. */
export function assertKey(key: string, storeUrl: string): void {
  const problem = keyProblem(key);
  if (problem !== undefined) {
    throw new ObjectStoreError('invalid_key', `Invalid key ${JSON.stringify(key)} in ${storeUrl}: ${problem}`);
  }
}

/**
 * Throws 'invalid_key' unless `prefix` can start a valid key. '' (everything) and a trailing '/'
 * are fine; the last segment may be partial ('batch-1/part-' matches 'batch-1/part-0001').
 */
export function assertPrefix(prefix: string, storeUrl: string): void {
  let problem: string | undefined;
  if (prefix.includes('\0')) problem = 'it contains a NUL character';
  else if (prefix.startsWith('/')) problem = 'it starts with "/"';
  else problem = segmentProblem(prefix.split('/').slice(0, -1));
  if (problem !== undefined) {
    throw new ObjectStoreError('invalid_key', `Invalid prefix ${JSON.stringify(prefix)} in ${storeUrl}: ${problem}`);
  }
}

/** Orders keys as S3 does: by their UTF-8 bytes (JS string order differs above U+FFFF). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
