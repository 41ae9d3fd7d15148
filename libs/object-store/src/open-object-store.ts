import { FileObjectStore } from './file-object-store.js';
import type { ObjectStore, ObjectStoreOptions } from './object-store.js';
import { parseLocationUrl, parseObjectUrl, type StoreLocation } from './object-url.js';
import { createS3Client } from './s3-client.js';
import { S3ObjectStore } from './s3-object-store.js';

function storeAt(location: StoreLocation, options: ObjectStoreOptions): ObjectStore {
  if (location.scheme === 'file') return new FileObjectStore(location.root);
  return new S3ObjectStore(location.bucket, location.prefix, createS3Client(options.env ?? process.env));
}

/**
 * A store rooted at a location URL (BATCH_STORE_URL): `file:///abs/dir` or `s3://bucket[/prefix]`.
 * Throws ObjectStoreError 'invalid_url' with a message naming what is wrong (relative path, other
 * scheme, missing bucket, query string, credentials in URL...). Close it when done: an S3 store
 * holds an HTTP connection pool.
 */
export function openObjectStore(url: string, options: ObjectStoreOptions = {}): ObjectStore {
  return storeAt(parseLocationUrl(url), options);
}

/**
 * One object named by a full URL (a batch's input_url / output_url): `file:///abs/path/file.jsonl`
 * or `s3://bucket/key`. Returns a store rooted at the parent and the key within it. Same
 * validation and errors as openObjectStore.
 */
export function openObjectRef(url: string, options: ObjectStoreOptions = {}): { store: ObjectStore; key: string } {
  const { location, key } = parseObjectUrl(url);
  return { store: storeAt(location, options), key };
}

/**
 * Runs `use` on the object a URL names with a store opened for it, and closes that store
 * afterwards whatever happens: an S3 store holds a connection pool.
 */
export async function useObjectRef<T>(url: string, options: ObjectStoreOptions, use: (store: ObjectStore, key: string) => Promise<T>): Promise<T> {
  const { store, key } = openObjectRef(url, options);
  try {
    return await use(store, key);
  } finally {
    await store.close();
  }
}
