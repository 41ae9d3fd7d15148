import { ObjectStoreError } from './object-store-error.js';

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const ACCESS_ERRORS = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'CredentialsProviderError',
]);

export function statusOf(error: unknown): number | undefined {
  return (error as SdkError | undefined)?.$metadata?.httpStatusCode;
}

export function nameOf(error: unknown): string | undefined {
  return (error as SdkError | undefined)?.name;
}

/** True for a missing object (GetObject's NoSuchKey, HeadObject's bodiless 404), not a missing bucket. */
export function isMissingObject(error: unknown): boolean {
  const name = nameOf(error);
  return name !== 'NoSuchBucket' && (name === 'NoSuchKey' || name === 'NotFound' || statusOf(error) === 404);
}

/**
 * Maps an SDK failure to the store's codes. Messages name the object URL and the S3 error; the SDK
 * never puts credentials in its messages, and neither do we.
 */
export function s3Error(error: unknown, url: string, bucket: string): ObjectStoreError {
  if (error instanceof ObjectStoreError) return error;
  const name = nameOf(error) ?? 'Error';
  const status = statusOf(error);
  const detail = `${name}${status === undefined ? '' : ` (HTTP ${status})`}: ${(error as SdkError | undefined)?.message ?? String(error)}`;
  if (name === 'NoSuchBucket') {
    return new ObjectStoreError('not_found', `Bucket "${bucket}" does not exist (${url})`, { cause: error });
  }
  if (isMissingObject(error)) return new ObjectStoreError('not_found', `${url} does not exist`, { cause: error });
  if (status === 401 || status === 403 || ACCESS_ERRORS.has(name)) {
    return new ObjectStoreError(
      'access_denied',
      `Access to ${url} denied: ${detail}. Check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, the AWS profile or the IAM role`,
      { cause: error },
    );
  }
  return new ObjectStoreError('unavailable', `S3 request for ${url} failed: ${detail}`, { cause: error });
}
