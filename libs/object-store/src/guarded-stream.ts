import type { ObjectStoreError } from './object-store-error.js';

/**
 * Passes `source` through, turning a failure met while the caller iterates (socket reset, EIO)
 * into an ObjectStoreError so mid-stream faults carry a code like every other failure. Breaking
 * out of the loop early still destroys the underlying stream: yield* forwards return().
 */
export async function* guardStream(
  source: AsyncIterable<Buffer>,
  toError: (error: unknown) => ObjectStoreError,
): AsyncGenerator<Buffer, void, undefined> {
  try {
    yield* source;
  } catch (error) {
    throw toError(error);
  }
}
