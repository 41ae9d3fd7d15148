import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { ObjectStoreError, openObjectStore, type ObjectStore, type ObjectStoreOptions } from '../../src/index.js';
import { startS3Server, type S3Server } from './s3-server.js';

export interface OpenedStore {
  store: ObjectStore;
  /** The file backend's root directory; undefined for S3. */
  root: string | undefined;
  /** The store's own URL, for openObjectRef / checkObjectUrl cases. */
  url: string;
  /** What opening more stores at this location takes (the S3 server's env). */
  options: ObjectStoreOptions;
  close(): Promise<void>;
}

export interface Backend {
  name: 'file' | 's3';
  /** A new, empty store: a fresh temp directory, or a fresh prefix in the shared bucket. */
  open(): Promise<OpenedStore>;
}

/** A file store in a fresh temp directory, removed on close. */
export async function openFileStore(): Promise<OpenedStore> {
  const root = await mkdtemp(join(tmpdir(), 'rerank-pool-store-'));
  const store = openObjectStore(pathToFileURL(root).href);
  return {
    store,
    root,
    url: store.url,
    options: {},
    async close() {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * Both backends for describe.each. Registers file-level hooks that start one s3rver for the file
 * and stop it afterwards; each S3 store gets a unique prefix so tests never see each other's keys.
 */
export function storeBackends(): Backend[] {
  let s3: S3Server | undefined;
  beforeAll(async () => {
    s3 = await startS3Server();
  });
  afterAll(async () => {
    await s3?.close();
  });
  return [
    { name: 'file', open: openFileStore },
    {
      name: 's3',
      async open() {
        if (s3 === undefined) throw new Error('s3rver is not running');
        const store = openObjectStore(`s3://${s3.bucket}/${randomUUID()}/`, { env: s3.env });
        return { store, root: undefined, url: store.url, options: { env: s3.env }, close: () => store.close() };
      },
    },
  ];
}

/** The S3 server of the current file, for tests that need the bucket or env directly. */
export function s3Server(): () => S3Server {
  let s3: S3Server | undefined;
  beforeAll(async () => {
    s3 = await startS3Server();
  });
  afterAll(async () => {
    await s3?.close();
  });
  return () => {
    if (s3 === undefined) throw new Error('s3rver is not running');
    return s3;
  };
}

export async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export async function listAll(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.list(prefix)) keys.push(key);
  return keys;
}

/** The ObjectStoreError a call fails with; fails the test if it succeeds or throws something else. */
export async function failureOf(operation: Promise<unknown> | (() => unknown)): Promise<ObjectStoreError> {
  try {
    await (typeof operation === 'function' ? operation() : operation);
  } catch (error) {
    if (error instanceof ObjectStoreError) return error;
    throw error;
  }
  throw new Error('expected an ObjectStoreError, but the call succeeded');
}

/** `count` chunks of `size` bytes with varied content, so misplaced bytes show up. */
export function* patternChunks(count: number, size: number): Generator<Buffer> {
  for (let index = 0; index < count; index += 1) {
    const chunk = Buffer.alloc(size);
    for (let offset = 0; offset < size; offset += 4) chunk.writeUInt32LE((index * size + offset) >>> 0, offset);
    yield chunk;
  }
}
