import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { RepoFile } from './hub-client.js';

/** Size of the file's content; for LFS files the LFS record is authoritative, not the pointer. */
export function contentSize(file: RepoFile): number {
  return file.lfs?.size ?? file.size;
}

/** The name huggingface_hub gives the blob: the LFS sha256, else the git blob sha1 (the ETag). */
export function blobEtag(file: RepoFile): string {
  return file.lfs?.oid ?? file.oid;
}

async function digest(path: string, algorithm: 'sha256' | 'sha1', prefix?: string): Promise<string> {
  const hash = createHash(algorithm);
  if (prefix !== undefined) hash.update(prefix);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Why the bytes at `path` are not `file`, or undefined when they are. LFS files are checked
 * against their sha256; regular files against their git blob sha1 (git hashes
 * "blob <size>\0" + content), so every file is verified, not only the large ones.
 */
export async function verificationProblem(path: string, file: RepoFile): Promise<string | undefined> {
  const expectedSize = contentSize(file);
  const { size } = await stat(path);
  if (size !== expectedSize) return `size ${size} bytes, expected ${expectedSize}`;
  const [actual, expected] = file.lfs
    ? [await digest(path, 'sha256'), file.lfs.oid]
    : [await digest(path, 'sha1', `blob ${size}\0`), file.oid];
  return actual === expected ? undefined : `${file.lfs ? 'sha256' : 'git sha1'} ${actual}, expected ${expected}`;
}
