import { openObjectRef, useObjectRef } from '@rerank-pool/object-store';
import type { ObjectStore } from '@rerank-pool/object-store';

/**
 * Where a finished batch's results are, as its record keeps it: a key in the batch store
 * (`store:<key>`), or the batch's output URL. Stores opened for an output URL are closed once
 * the write or the read is done.
 */
const IN_STORE = 'store:';

export function storeResultsRef(key: string): string {
  return `${IN_STORE}${key}`;
}

export async function writeResults(ref: string, store: ObjectStore, env: NodeJS.ProcessEnv, body: AsyncIterable<Buffer>): Promise<void> {
  if (ref.startsWith(IN_STORE)) await store.putStream(ref.slice(IN_STORE.length), body);
  else await useObjectRef(ref, { env }, (output, key) => output.putStream(key, body));
}

export async function readResults(ref: string, store: ObjectStore, env: NodeJS.ProcessEnv): Promise<AsyncIterable<Buffer>> {
  if (ref.startsWith(IN_STORE)) return store.read(ref.slice(IN_STORE.length));
  const output = openObjectRef(ref, { env });
  try {
    return closingAfter(await output.store.read(output.key), output.store);
  } catch (error) {
    await output.store.close();
    throw error;
  }
}

async function* closingAfter(bytes: AsyncIterable<Buffer>, store: ObjectStore): AsyncGenerator<Buffer> {
  try {
    yield* bytes;
  } finally {
    await store.close();
  }
}
