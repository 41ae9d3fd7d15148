import { constants } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { selectModelFiles } from './model-files.js';

/*
 * The on-disk layout of huggingface_hub's cache (https://huggingface.co/docs/hub/local-cache),
 * so models pulled here are found by Python tooling and vice versa:
 *
 *   <cacheDir>/models--<org>--<name>/
 *     blobs/<etag>                    content, named by sha256 (LFS) or git sha1 (regular files)
 *     blobs/<etag>.incomplete         a download in progress, resumed from its size
 *     snapshots/<commit>/<repo path>  relative symlinks into blobs/ (copies where symlinks fail)
 *     refs/<revision>                 the commit sha the branch/tag pointed at when pulled
 */

const COMMIT_SHA = /^[0-9a-f]{40}$/;

export function repoCacheDir(cacheDir: string, hubId: string): string {
  return join(cacheDir, `models--${hubId.split('/').join('--')}`);
}

export function blobPath(repoDir: string, etag: string): string {
  return join(repoDir, 'blobs', etag);
}

export function snapshotDir(repoDir: string, commit: string): string {
  return join(repoDir, 'snapshots', commit);
}

/** The commit a revision points at in the cache, or undefined if it was never pulled. */
export async function readRef(repoDir: string, revision: string): Promise<string | undefined> {
  // huggingface_hub writes no ref for a revision that already is a commit sha.
  if (COMMIT_SHA.test(revision)) return revision;
  try {
    const commit = (await readFile(join(repoDir, 'refs', revision), 'utf8')).trim();
    return COMMIT_SHA.test(commit) ? commit : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Records that `revision` resolved to `commit`. Written last by a pull, and atomically (rename),
 * so a reader never follows a ref into a snapshot that is still being filled.
 */
export async function writeRef(repoDir: string, revision: string, commit: string): Promise<void> {
  if (revision === commit) return;
  const path = join(repoDir, 'refs', revision);
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, commit);
  await rename(temporary, path);
}

/** True when the blob is already complete (size is checked; the content was verified when written). */
export async function hasBlob(path: string, size: number): Promise<boolean> {
  try {
    const stats = await stat(path);
    return stats.isFile() && stats.size === size;
  } catch {
    return false;
  }
}

/** Makes `pointer` (a path inside a snapshot) resolve to `blob`. */
export async function linkIntoSnapshot(blob: string, pointer: string): Promise<void> {
  await mkdir(dirname(pointer), { recursive: true });
  // A previous run may have left a dangling link or a stale copy; replace it.
  await rm(pointer, { force: true });
  try {
    await symlink(relative(dirname(pointer), blob), pointer);
  } catch (error) {
    // Windows without developer mode and some network filesystems refuse symlinks;
    // huggingface_hub degrades to copies there, and so do we.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error;
    await copyFile(blob, pointer, constants.COPYFILE_FICLONE);
  }
}

/** Repo-relative paths of the files in a snapshot whose link target exists. */
async function snapshotFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const repoPath = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) {
      files.push(...(await snapshotFiles(path, repoPath)));
    } else if ((await stat(path).catch(() => undefined))?.isFile()) {
      files.push(repoPath);
    }
  }
  return files;
}

export interface CachedSnapshot {
  commit: string;
  dir: string;
  files: string[];
}

/**
 * The cached snapshot of `hubId@revision` if it holds everything a pull with `variant` would
 * fetch; undefined otherwise (never pulled, or pulled with another variant). No network.
 */
export async function findCachedSnapshot(
  cacheDir: string,
  hubId: string,
  revision: string,
  variant: string | undefined,
): Promise<CachedSnapshot | undefined> {
  const repoDir = repoCacheDir(cacheDir, hubId);
  const commit = await readRef(repoDir, revision);
  if (commit === undefined) return undefined;
  const dir = snapshotDir(repoDir, commit);
  const present = await snapshotFiles(dir).catch(() => undefined);
  if (present === undefined) return undefined;
  try {
    return { commit, dir, files: selectModelFiles(present, variant, `${hubId}@${revision}`).files };
  } catch {
    return undefined;
  }
}
