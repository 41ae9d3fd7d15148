import { lstat, realpath } from 'node:fs/promises';
import { posix } from 'node:path';
import { errnoOf } from './file-errors.js';
import { ObjectStoreError } from './object-store-error.js';
import { objectUrl, parseLocationUrl, parseObjectUrl, type StoreLocation } from './object-url.js';

const SETTING = 'BATCH_URL_PREFIXES';

/**
 * `path` with the symlinks of its longest existing ancestor resolved and the missing rest appended
 * (an output file usually does not exist yet). Undefined when the path cannot be resolved: a
 * dangling or looping link, or a directory we may not search.
 */
async function resolveSymlinks(path: string): Promise<string | undefined> {
  const missing: string[] = [];
  let existing = path;
  for (;;) {
    try {
      return posix.join(await realpath(existing), ...missing);
    } catch (error) {
      const code = errnoOf(error);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
      // lstat follows every ancestor but not the last link: if it succeeds, `existing` dangles.
      const dangles = await lstat(existing).then(
        () => true,
        () => false,
      );
      if (dangles || existing === '/') return undefined;
      missing.unshift(posix.basename(existing));
      existing = posix.dirname(existing);
    }
  }
}

/** A comparable form: scheme, then the real path on disk or the bucket and full key. */
async function placeOf(location: StoreLocation, key: string): Promise<string | undefined> {
  if (location.scheme === 's3') return `s3:/${location.bucket}/${location.prefix}${key}`;
  const resolved = await resolveSymlinks(posix.join(location.root, key));
  return resolved === undefined ? undefined : `file:${resolved}`;
}

/** Where an allowed prefix points, as a placeOf() form (no trailing '/' but for the filesystem root). */
async function allowedPlaceOf(prefix: string, index: number): Promise<string> {
  let location: StoreLocation;
  try {
    location = parseLocationUrl(prefix);
  } catch (error) {
    // Clients may see this message: it points the operator at the entry without repeating it.
    throw new ObjectStoreError('invalid_url', `Entry ${index + 1} of ${SETTING} is not a valid file:/// or s3:// URL`, {
      cause: error,
    });
  }
  // Without the trailing '/', an entry naming a single object ('s3://b/team-a/in.jsonl') matches it.
  if (location.scheme === 's3') return `s3:/${location.bucket}/${location.prefix}`.replace(/\/$/, '');
  // An allowed directory reached through a symlink (/data -> /mnt/disk) must still match its files.
  return `file:${(await resolveSymlinks(location.root)) ?? location.root}`;
}

function isWithin(place: string, allowed: string): boolean {
  return place === allowed || place.startsWith(allowed.endsWith('/') ? allowed : `${allowed}/`);
}

/**
 * Checks a client-given object URL against operator-configured allowed prefixes (BATCH_URL_PREFIXES), after normalising it
 * (resolving '.', '..' and percent-encoded traversal for file:, so `file:///data/../etc/passwd` is `file:///etc/passwd`).
 * A prefix matches on segment boundaries: 'file:///data' and 'file:///data/' allow 'file:///data/x.jsonl' but not 'file:///database/x'.
 * 's3://bucket' allows the whole bucket; 's3://bucket/team-a/' only that prefix. Returns the normalised URL, or throws
 * ObjectStoreError 'forbidden_url' (message lists nothing secret, says which setting controls it: BATCH_URL_PREFIXES) or 'invalid_url'.
 * For file: URLs also resolve symlinks of the longest existing ancestor (realpath) before matching, so a symlink inside an allowed dir cannot point outside it.
 */
export async function checkObjectUrl(url: string, allowedPrefixes: readonly string[]): Promise<string> {
  const { location, key } = parseObjectUrl(url);
  const normalised = objectUrl(location, key);
  const place = await placeOf(location, key);
  const allowed = await Promise.all(allowedPrefixes.map((prefix, index) => allowedPlaceOf(prefix, index)));
  if (place === undefined || !allowed.some((prefix) => isWithin(place, prefix))) {
    throw new ObjectStoreError(
      'forbidden_url',
      `${normalised} is not in a location allowed for batch files; the operator sets those with ${SETTING}`,
    );
  }
  return normalised;
}
