/**
 * Where keys live: a directory or a bucket + prefix. Keys are relative, '/'-separated, never start
 * with '/', never contain '.' or '..' segments or empty segments.
 */
export interface ObjectStore {
  /** The store's location without credentials, ending in '/': 's3://bucket/prefix/' or 'file:///var/data/batches/'. */
  readonly url: string;
  /** Writes a whole object (up to tens of MB). Atomic: readers see the old object or the new one, never part of it. */
  put(key: string, body: Buffer | string): Promise<void>;
  /**
   * Writes an object of unknown length from a stream (multipart upload on S3; temp file + rename on
   * disk). The object appears only once complete; if `body` throws, nothing is left visible under
   * `key` and the error is rethrown.
   */
  putStream(key: string, body: AsyncIterable<Buffer | string>): Promise<{ bytes: number }>;
  /** Streams an object's bytes from byte `start` (default 0) to its end. Missing object -> ObjectStoreError code 'not_found'. */
  read(key: string, options?: { start?: number }): Promise<AsyncIterable<Buffer>>;
  /** Size of an object, or undefined when it does not exist. */
  head(key: string): Promise<{ size: number } | undefined>;
  /**
   * Every key under `prefix` (a key prefix, not necessarily ending in '/'), in ascending byte order,
   * paging internally. Keys are relative to the store root. Temp files of unfinished writes never appear.
   */
  list(prefix: string): AsyncIterable<string>;
  /** Deletes one object; deleting a missing one is fine. */
  delete(key: string): Promise<void>;
  /** Deletes every object under `prefix`, returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Releases clients; idempotent. */
  close(): Promise<void>;
}

/** Options besides the URL; every field optional, defaults documented. */
export interface ObjectStoreOptions {
  /**
   * Environment to read AWS_* from (default process.env): AWS_REGION / AWS_DEFAULT_REGION,
   * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_S3_FORCE_PATH_STYLE and, when set here,
   * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN. Without those keys the SDK's
   * default credential chain applies (profiles, web identity / IRSA, instance metadata).
   */
  env?: NodeJS.ProcessEnv;
}
