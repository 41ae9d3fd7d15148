import { posix } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { keyProblem } from './object-key.js';
import { ObjectStoreError } from './object-store-error.js';

/** A parsed store root: an absolute directory, or a bucket and a key prefix ('' or ending in '/'). */
export type StoreLocation =
  | { readonly scheme: 'file'; readonly root: string }
  | { readonly scheme: 's3'; readonly bucket: string; readonly prefix: string };

// AWS's rules for new buckets; MinIO and R2 apply the same ones.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const USAGE = 'use file:///absolute/dir or s3://bucket/prefix';

/**
 * The URL as it may appear in a message. Everything between '://' and the last '@' could be a
 * secret: AWS secret keys contain '/', so the authority cannot be trusted to end at the first '/'.
 */
export function redactUrl(url: string): string {
  const authority = url.indexOf('://');
  const at = url.lastIndexOf('@');
  return authority !== -1 && at > authority ? `${url.slice(0, authority + 3)}***${url.slice(at)}` : url;
}

function invalid(url: string, problem: string, cause?: unknown): ObjectStoreError {
  return new ObjectStoreError('invalid_url', `Invalid object store URL "${redactUrl(url)}": ${problem}`, { cause });
}

function schemeOf(url: string): 'file' | 's3' {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'file' || scheme === 's3') return scheme;
  throw invalid(url, scheme === undefined ? `it has no scheme; ${USAGE}` : `scheme "${scheme}:" is not supported; ${USAGE}`);
}

/** The absolute, lexically normalised path of a file URL ('.', '..' and %2e%2e resolved). Keeps a trailing '/'. */
function filePathOf(url: string): string {
  const afterScheme = url.slice('file:'.length);
  // WHATWG URL parsing reads 'file:data/x' as /data/x and 'file://data/x' as host "data": both are
  // almost certainly meant as relative paths, so only the explicit absolute forms are accepted.
  if (!afterScheme.startsWith('///') && !/^\/\/localhost\//i.test(afterScheme)) {
    throw invalid(
      url,
      afterScheme.startsWith('//')
        ? 'a file URL takes no host or credentials; write file:///absolute/path'
        : 'the path must be absolute; write file:///absolute/path',
    );
  }
  if (/[?#]/.test(url)) throw invalid(url, 'query strings and fragments are not allowed');
  let path: string;
  try {
    path = fileURLToPath(new URL(url));
  } catch (error) {
    // e.g. an encoded '/' (%2F) or broken percent-encoding
    throw invalid(url, (error as Error).message, error);
  }
  if (path.includes('\0')) throw invalid(url, 'it contains a NUL character');
  return posix.normalize(path);
}

/**
 * Bucket and raw path of an s3 URL. Like the AWS CLI, the path is taken literally (no
 * percent-decoding): S3 keys may contain '%' and spaces.
 */
function s3PartsOf(url: string): { bucket: string; path: string } {
  const afterScheme = url.slice('s3:'.length);
  if (!afterScheme.startsWith('//')) throw invalid(url, 'write s3://bucket/prefix');
  const rest = afterScheme.slice(2);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash + 1);
  // 'KEY:SECRET@bucket', where a '/' in the secret may have ended the bucket part early.
  if (bucket.includes('@') || (bucket.includes(':') && rest.includes('@'))) {
    throw invalid(url, 'credentials do not belong in the URL; use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile or an IAM role');
  }
  if (/[?#]/.test(rest)) throw invalid(url, 'query strings and fragments are not allowed');
  if (bucket === '') throw invalid(url, 'the bucket name is missing; write s3://bucket/prefix');
  if (bucket.includes(':')) {
    throw invalid(url, `"${bucket}" looks like host:port; set the endpoint with AWS_ENDPOINT_URL_S3 and write s3://bucket/prefix`);
  }
  if (!BUCKET_NAME.test(bucket)) {
    throw invalid(url, `"${bucket}" is not a valid bucket name (3-63 lowercase letters, digits, '.' and '-')`);
  }
  return { bucket, path };
}

/** Parses a store root URL (BATCH_STORE_URL): `file:///abs/dir` or `s3://bucket[/prefix]`. */
export function parseLocationUrl(url: string): StoreLocation {
  if (schemeOf(url) === 'file') {
    const path = filePathOf(url);
    return { scheme: 'file', root: path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path };
  }
  const { bucket, path } = s3PartsOf(url);
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  if (trimmed === '') return { scheme: 's3', bucket, prefix: '' };
  const problem = keyProblem(trimmed);
  if (problem !== undefined) throw invalid(url, `the prefix is not valid: ${problem}`);
  return { scheme: 's3', bucket, prefix: `${trimmed}/` };
}

/** Parses the URL of one object into the location of its parent and its name there. */
export function parseObjectUrl(url: string): { location: StoreLocation; key: string } {
  if (schemeOf(url) === 'file') {
    const path = filePathOf(url);
    if (path.endsWith('/')) throw invalid(url, 'it names a directory, not a file');
    return { location: { scheme: 'file', root: posix.dirname(path) }, key: posix.basename(path) };
  }
  const { bucket, path } = s3PartsOf(url);
  if (path === '') throw invalid(url, 'the object key is missing; write s3://bucket/key');
  const problem = keyProblem(path);
  if (problem !== undefined) throw invalid(url, `the key is not valid: ${problem}`);
  const slash = path.lastIndexOf('/');
  return { location: { scheme: 's3', bucket, prefix: path.slice(0, slash + 1) }, key: path.slice(slash + 1) };
}

/** The location's URL, ending in '/'. */
export function locationUrl(location: StoreLocation): string {
  if (location.scheme === 's3') return `s3://${location.bucket}/${location.prefix}`;
  const href = pathToFileURL(location.root).href;
  return href.endsWith('/') ? href : `${href}/`;
}

/** The URL of `key` within the location. */
export function objectUrl(location: StoreLocation, key: string): string {
  return location.scheme === 's3'
    ? `s3://${location.bucket}/${location.prefix}${key}`
    : pathToFileURL(posix.join(location.root, key)).href;
}
