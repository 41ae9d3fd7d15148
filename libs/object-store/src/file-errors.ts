import { ObjectStoreError } from './object-store-error.js';

export function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Maps a filesystem error to the store's codes. While writing, ENOTDIR/EEXIST/EISDIR mean the key
 * collides with what is on disk (an object 'a' where 'a/b' needs a directory, or the reverse):
 * S3 allows both, a directory tree cannot.
 */
export function fileError(error: unknown, url: string, operation: 'read' | 'write'): ObjectStoreError {
  const code = errnoOf(error);
  const detail = (error as Error).message;
  switch (code) {
    case 'ENOENT':
      return new ObjectStoreError('not_found', `${url} does not exist`, { cause: error });
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EEXIST':
    case 'ENOTEMPTY':
      return operation === 'read'
        ? new ObjectStoreError('not_found', `${url} does not exist`, { cause: error })
        : new ObjectStoreError(
            'invalid_key',
            `${url} collides with an existing object or directory of the same name (${code})`,
            { cause: error },
          );
    case 'ENAMETOOLONG':
      return new ObjectStoreError('invalid_key', `${url} is too long for the filesystem`, { cause: error });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new ObjectStoreError('access_denied', `Access to ${url} denied: ${detail}`, { cause: error });
    default:
      return new ObjectStoreError('unavailable', `Filesystem error on ${url}: ${detail}`, { cause: error });
  }
}
