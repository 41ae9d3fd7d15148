import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * An S3-compatible server for tests: s3rver (in-process, on disk) on 127.0.0.1 with a random
 * port, one bucket, and the AWS_* variables a store needs, to pass as `options.env`:
 *
 *   const s3 = await startS3Server();
 *   const store = openObjectStore(`s3://${s3.bucket}/some-prefix/`, { env: s3.env });
 *   ...
 *   await store.close();
 *   await s3.close();
 *
 * Other packages import this file by relative path; it depends on nothing else in the repo.
 */
export interface S3Server {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** A bucket that exists and starts empty. */
  bucket: string;
  /** AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION for this server. */
  env: Record<string, string>;
  /** Stops the server and deletes its data. */
  close(): Promise<void>;
}

const BUCKET = 'test-bucket';
// s3rver's one built-in account; it checks the access key id but not V4 signatures.
const ACCESS_KEY = 'S3RVER';

/** The parts of s3rver 3.7.1 used here (it ships no types). */
interface StoredObject {
  key: string;
  size: number;
  lastModifiedDate: Date;
  metadata: Record<string, string>;
}
interface S3rverStore {
  getBucket(bucket: string): Promise<object | null>;
  listObjects(
    bucket: string,
    options: { prefix?: string; startAfter?: string; maxKeys: number },
  ): Promise<{ objects: StoredObject[] }>;
}
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
  req: IncomingMessage;
  res: ServerResponse;
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rver {
  store: S3rverStore;
  middleware: KoaMiddleware[];
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rver;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

export async function startS3Server(): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'rerank-pool-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET }],
  });
  // Runs before s3rver's own middleware (Koa composes the array when the server starts).
  server.middleware.unshift(listObjectsV2(server.store));
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  let closed = false;
  return {
    endpoint,
    bucket: BUCKET,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: ACCESS_KEY,
      AWS_REGION: 'us-east-1',
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await server.close();
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    },
  };
}

/**
 * ListObjectsV2 answered from s3rver's store, because s3rver 3.7.1 gets two things wrong:
 * - order: it walks its directory tree, so 'a/1' comes before 'a-b' (S3 sorts by UTF-8 bytes), and
 *   a page can end on a key greater than keys still unlisted;
 * - continuation tokens: it encrypts them with DES, which OpenSSL 3 (Node >= 17) no longer offers,
 *   so every truncated listing fails with a 500.
 * Tokens here are the base64 of the last key returned. Delimiters are left to s3rver.
 */
function listObjectsV2(store: S3rverStore): KoaMiddleware {
  return async (ctx, next) => {
    const bucket = /^\/([^/]+)\/?$/.exec(ctx.path)?.[1];
    const query = (name: string) => {
      const value = ctx.query[name];
      return Array.isArray(value) ? value[0] : value;
    };
    if (ctx.method !== 'GET' || bucket === undefined || query('list-type') !== '2' || query('delimiter')) return next();
    // A missing bucket gets s3rver's NoSuchBucket answer.
    if ((await store.getBucket(bucket)) === null) return next();

    const prefix = query('prefix') ?? '';
    const maxKeys = Math.min(1000, Number(query('max-keys') ?? 1000));
    const token = query('continuation-token');
    const startAfter = token !== undefined ? Buffer.from(token, 'base64').toString() : query('start-after') ?? '';
    const { objects } = await store.listObjects(bucket, { prefix, maxKeys: Infinity });
    const page = objects
      .filter((object) => Buffer.compare(Buffer.from(object.key), Buffer.from(startAfter)) > 0)
      .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
    const contents = page.slice(0, maxKeys);
    const truncated = page.length > maxKeys;
    const element = (name: string, value: string | number | boolean) => `<${name}>${escapeXml(String(value))}</${name}>`;

    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
      element('Name', bucket),
      element('Prefix', prefix),
      element('KeyCount', contents.length),
      element('MaxKeys', maxKeys),
      element('IsTruncated', truncated),
      token !== undefined ? element('ContinuationToken', token) : '',
      truncated ? element('NextContinuationToken', Buffer.from(contents[contents.length - 1].key).toString('base64')) : '',
      ...contents.map(
        (object) =>
          `<Contents>${element('Key', object.key)}${element('LastModified', object.lastModifiedDate.toISOString())}` +
          `${element('ETag', object.metadata.etag ?? '')}${element('Size', object.size)}` +
          `${element('StorageClass', 'STANDARD')}</Contents>`,
      ),
      '</ListBucketResult>',
    ].join('');
  };
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
