/**
 * Stable codes for every failure this library reports. Callers (the API, the batch runner) switch
 * on `code`; the message names the URL or key at fault and never carries credentials.
 */
export type ObjectStoreErrorCode =
  /** A store or object URL cannot be used: wrong scheme, relative path, bad bucket, credentials... */
  | 'invalid_url'
  /** A key breaks the key rules, or collides with an existing object on disk ('a' vs 'a/b'). */
  | 'invalid_key'
  /** The object, or the bucket holding it, does not exist. */
  | 'not_found'
  /** The store refused the credentials or the operation (S3 403, filesystem EACCES). */
  | 'access_denied'
  /** A client-given URL is outside the locations the operator allows (BATCH_URL_PREFIXES). */
  | 'forbidden_url'
  /** The store could not be reached or failed the request (network error, timeout, 5xx, other S3 errors, disk full). */
  | 'unavailable';

export class ObjectStoreError extends Error {
  override readonly name = 'ObjectStoreError';
  readonly code: ObjectStoreErrorCode;

  constructor(code: ObjectStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
