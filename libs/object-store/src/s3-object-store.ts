import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { withContentMd5 } from './content-md5.js';
import { guardStream } from './guarded-stream.js';
import { assertKey, assertPrefix } from './object-key.js';
import type { ObjectStore } from './object-store.js';
import { ObjectStoreError } from './object-store-error.js';
import { locationUrl } from './object-url.js';
import { readStart } from './read-start.js';
import { isMissingObject, nameOf, s3Error, statusOf } from './s3-errors.js';

/** Multipart part size: 8 MiB keeps 10,000 parts (S3's cap) above 80 GB and memory at 4 x 8 MiB. */
const PART_SIZE = 8 * 1024 * 1024;
/** DeleteObjects takes at most 1000 keys per request. */
const DELETE_BATCH = 1000;

async function* noBytes(): AsyncGenerator<Buffer> {}

/** Objects in a bucket under a key prefix ('' or ending in '/'). */
export class S3ObjectStore implements ObjectStore {
  readonly url: string;
  private closed = false;

  constructor(
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly client: S3Client,
  ) {
    this.url = locationUrl({ scheme: 's3', bucket, prefix });
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const Key = this.keyOf(key);
    // An explicit length: the SDK leaves the header out for an empty body and then warns about streams.
    const ContentLength = Buffer.byteLength(body);
    await this.request(key, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentLength })),
    );
  }

  async putStream(key: string, body: AsyncIterable<Buffer | string>): Promise<{ bytes: number }> {
    const Key = this.keyOf(key);
    let bytes = 0;
    // Set when `body` itself throws, so that error is rethrown as is rather than as an S3 failure.
    let bodyFailure: { error: unknown } | undefined;
    async function* counted(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of body) {
          const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          bytes += buffer.length;
          yield buffer;
        }
      } catch (error) {
        bodyFailure = { error };
        throw error;
      }
    }
    // Upload sends one PutObject when the body fits in a part, else a multipart upload; on any
    // failure it aborts the multipart upload (leavePartsOnError: false), so no object appears.
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: Readable.from(counted()) },
      partSize: PART_SIZE,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      if (bodyFailure !== undefined) throw bodyFailure.error;
      throw s3Error(error, this.urlOf(key), this.bucket);
    }
    return { bytes };
  }

  async read(key: string, options?: { start?: number }): Promise<AsyncIterable<Buffer>> {
    const start = readStart(options);
    const Key = this.keyOf(key);
    const url = this.urlOf(key);
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, Range: start > 0 ? `bytes=${start}-` : undefined }),
      );
      // In Node the body is an IncomingMessage: an async iterable of Buffers.
      return guardStream((response.Body as Readable | undefined) ?? noBytes(), (error) => s3Error(error, url, this.bucket));
    } catch (error) {
      // The object exists (a missing one answers 404 first) but `start` is at or past its end.
      if (nameOf(error) === 'InvalidRange' || statusOf(error) === 416) return noBytes();
      throw s3Error(error, url, this.bucket);
    }
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    const Key = this.keyOf(key);
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { size: response.ContentLength ?? 0 };
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw s3Error(error, this.urlOf(key), this.bucket);
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    assertPrefix(prefix, this.url);
    let token: string | undefined;
    do {
      const page = await this.request(prefix, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield object.Key.slice(this.prefix.length);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(key: string): Promise<void> {
    const Key = this.keyOf(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (error) {
      // S3 answers 204 for a missing key; some compatible stores answer 404.
      if (!isMissingObject(error)) throw s3Error(error, this.urlOf(key), this.bucket);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    let batch: string[] = [];
    // Deleting what was listed does not disturb the listing: its continuation token is a position.
    for await (const key of this.list(prefix)) {
      batch.push(key);
      if (batch.length === DELETE_BATCH) {
        deleted += await this.deleteBatch(batch);
        batch = [];
      }
    }
    if (batch.length > 0) deleted += await this.deleteBatch(batch);
    return deleted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
  }

  private keyOf(key: string): string {
    assertKey(key, this.url);
    return this.prefix + key;
  }

  private urlOf(key: string): string {
    return `${this.url}${key}`;
  }

  /** Runs one SDK call, reporting a failure as the store's error for `key` (or prefix). */
  private async request<T>(key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw s3Error(error, this.urlOf(key), this.bucket);
    }
  }

  private async deleteBatch(keys: string[]): Promise<number> {
    const command = withContentMd5(
      new DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: { Objects: keys.map((key) => ({ Key: this.prefix + key })), Quiet: true },
      }),
    );
    const result = await this.request(keys[0], () => this.client.send(command));
    const failures = result.Errors ?? [];
    if (failures.length === 0) return keys.length;
    const first = failures[0];
    throw new ObjectStoreError(
      first.Code === 'AccessDenied' ? 'access_denied' : 'unavailable',
      `Could not delete ${failures.length} of ${keys.length} objects in ${this.url}; ` +
        `s3://${this.bucket}/${first.Key ?? '?'} failed with ${first.Code ?? 'an error'}: ${first.Message ?? ''}`,
    );
  }
}
