import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { errnoOf, fileError } from './file-errors.js';
import { guardStream } from './guarded-stream.js';
import { assertKey, assertPrefix, compareKeys } from './object-key.js';
import type { ObjectStore } from './object-store.js';
import { ObjectStoreError } from './object-store-error.js';
import { locationUrl, objectUrl, type StoreLocation } from './object-url.js';
import { readStart } from './read-start.js';

/**
 * Unfinished writes live in this directory under the root: on the same filesystem as their
 * targets, so the final rename() is atomic. list() never enters it and keys may not start with it.
 */
const PARTIAL_DIR = '.partial';

// putStream coalesces small chunks (JSONL lines) into writes of about this size.
const WRITE_BYTES = 1024 * 1024;

// A concurrent deletePrefix may remove a target's emptied directory between our mkdir and rename.
const RENAME_ATTEMPTS = 3;

/** Objects as files under a root directory; keys map to subdirectories. */
export class FileObjectStore implements ObjectStore {
  readonly url: string;
  private readonly location: StoreLocation;

  constructor(private readonly root: string) {
    this.location = { scheme: 'file', root };
    this.url = locationUrl(this.location);
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    await this.writeAtomically(key, async (handle, url) => {
      await writing(handle.writeFile(body), url);
    });
  }

  async putStream(key: string, body: AsyncIterable<Buffer | string>): Promise<{ bytes: number }> {
    let bytes = 0;
    await this.writeAtomically(key, async (handle, url) => {
      const flush = (chunks: Buffer[]) => writing(handle.writeFile(Buffer.concat(chunks)), url);
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      // Errors thrown by `body` itself pass through untouched, as the interface promises.
      for await (const chunk of body) {
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        pending.push(buffer);
        pendingBytes += buffer.length;
        bytes += buffer.length;
        if (pendingBytes >= WRITE_BYTES) {
          await flush(pending);
          pending = [];
          pendingBytes = 0;
        }
      }
      await flush(pending);
    });
    return { bytes };
  }

  async read(key: string, options?: { start?: number }): Promise<AsyncIterable<Buffer>> {
    const start = readStart(options);
    const path = this.pathOf(key);
    const url = this.urlOf(key);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw fileError(error, url, 'read');
    }
    let isFile: boolean;
    try {
      isFile = (await handle.stat()).isFile();
    } catch (error) {
      await handle.close();
      throw fileError(error, url, 'read');
    }
    // Opening a directory succeeds on Linux; only regular files are objects.
    if (!isFile) {
      await handle.close();
      throw new ObjectStoreError('not_found', `${url} does not exist`);
    }
    // The stream owns the handle from here and closes it at the end or when destroyed.
    return guardStream(handle.createReadStream({ start }), (error) => fileError(error, url, 'read'));
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    const path = this.pathOf(key);
    try {
      const info = await stat(path);
      return info.isFile() ? { size: info.size } : undefined;
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw fileError(error, this.urlOf(key), 'read');
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    assertPrefix(prefix, this.url);
    // No key lives in the temp directory, so a prefix reaching into it matches nothing.
    if (prefix.startsWith(`${PARTIAL_DIR}/`)) return;
    const slash = prefix.lastIndexOf('/');
    yield* this.walk(prefix.slice(0, slash + 1), prefix.slice(slash + 1));
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      const code = errnoOf(error);
      // Missing, or a directory (which is no object): nothing to delete either way.
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return;
      throw fileError(error, this.urlOf(key), 'write');
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    const directories = new Set<string>();
    // walk() reads each directory fully before yielding from it, so unlinking as we go is safe.
    for await (const key of this.list(prefix)) {
      try {
        await unlink(posix.join(this.root, key));
        deleted += 1;
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT') throw fileError(error, this.urlOf(key), 'write');
      }
      directories.add(posix.dirname(key));
    }
    await this.removeEmptyDirectories(directories);
    return deleted;
  }

  async close(): Promise<void> {
    // Nothing held between calls.
  }

  private pathOf(key: string): string {
    assertKey(key, this.url);
    if (key.split('/', 1)[0] === PARTIAL_DIR) {
      throw new ObjectStoreError('invalid_key', `Invalid key "${key}" in ${this.url}: "${PARTIAL_DIR}/" is reserved for unfinished writes`);
    }
    return posix.join(this.root, key);
  }

  private urlOf(key: string): string {
    return objectUrl(this.location, key);
  }

  /**
   * Writes into a temp file, fsyncs it (a crash must not leave a renamed but empty result of a
   * multi-hour batch), then renames it over the target and fsyncs the directory so the rename
   * itself survives a crash. On any failure the temp file is removed and the target is untouched.
   */
  private async writeAtomically(key: string, write: (handle: FileHandle, url: string) => Promise<void>): Promise<void> {
    const target = this.pathOf(key);
    const url = this.urlOf(key);
    const partialDir = posix.join(this.root, PARTIAL_DIR);
    const temp = posix.join(partialDir, randomUUID());
    let handle: FileHandle;
    try {
      await mkdir(partialDir, { recursive: true });
      handle = await open(temp, 'wx');
    } catch (error) {
      throw fileError(error, url, 'write');
    }
    try {
      try {
        await write(handle, url);
        await writing(handle.sync(), url);
      } finally {
        await handle.close();
      }
      await this.moveIntoPlace(temp, target, url);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  private async moveIntoPlace(temp: string, target: string, url: string): Promise<void> {
    const directory = posix.dirname(target);
    for (let attempt = 1; ; attempt += 1) {
      try {
        await mkdir(directory, { recursive: true });
        await rename(temp, target);
        break;
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT' || attempt === RENAME_ATTEMPTS) throw fileError(error, url, 'write');
      }
    }
    await writing(syncDirectory(directory), url);
  }

  /**
   * Yields the keys below directory `dirKey` ('' or ending in '/') whose first name starts with
   * `namePrefix`, in byte order of the full keys. Sorting each directory by name, with '/' appended
   * to subdirectories, gives that global order: 'a-b' sorts before 'a/' and so before every
   * 'a/...' key, just as S3 orders 'a-b' before 'a/1'.
   */
  private async *walk(dirKey: string, namePrefix: string): AsyncGenerator<string> {
    let entries: Dirent[];
    try {
      entries = await readdir(posix.join(this.root, dirKey), { withFileTypes: true });
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw fileError(error, objectUrl(this.location, dirKey), 'read');
    }
    const ordered = entries
      .filter((entry) => entry.name.startsWith(namePrefix) && (entry.isFile() || entry.isDirectory()))
      .filter((entry) => !(dirKey === '' && entry.name === PARTIAL_DIR))
      .map((entry) => ({ name: entry.name, isDirectory: entry.isDirectory() }))
      .sort((a, b) => compareKeys(a.isDirectory ? `${a.name}/` : a.name, b.isDirectory ? `${b.name}/` : b.name));
    for (const entry of ordered) {
      if (entry.isDirectory) yield* this.walk(`${dirKey}${entry.name}/`, '');
      else yield `${dirKey}${entry.name}`;
    }
  }

  /** Removes the given key directories and then their parents while they are empty; never the root. */
  private async removeEmptyDirectories(directories: Set<string>): Promise<void> {
    const deepestFirst = [...directories].sort((a, b) => b.split('/').length - a.split('/').length);
    for (let directory of deepestFirst) {
      while (directory !== '.') {
        try {
          await rmdir(posix.join(this.root, directory));
        } catch (error) {
          const code = errnoOf(error);
          if (code === 'ENOTEMPTY' || code === 'EEXIST') break;
          // ENOENT: already removed on behalf of a deeper directory; its parent may still be empty.
          if (code !== 'ENOENT') throw fileError(error, objectUrl(this.location, `${directory}/`), 'write');
        }
        directory = posix.dirname(directory);
      }
    }
  }
}

/** `operation`, with a filesystem failure reported as the store's error for writing `url`. */
async function writing<T>(operation: Promise<T>, url: string): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    throw fileError(error, url, 'write');
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
