import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { SubmitError } from './submit-error.js';

async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (error) {
    throw new SubmitError('SUBMIT_INPUT', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  return hash.digest('hex');
}

/**
 * The idempotency key of a submit: a hash of every input file's contents and of the options
 * that shape the requests. Re-running the same submit therefore names the same batch, and the
 * API continues it (or just returns it) instead of starting again; changing a file or an option
 * starts a new one.
 */
export async function inputFingerprint(files: readonly string[], options: Record<string, unknown>): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify({ v: 1, options }));
  for (const file of files) hash.update('\0').update(await fileDigest(file));
  return `submit-${hash.digest('hex').slice(0, 40)}`;
}

/**
 * The idempotency key of a submit by reference: a hash of the URLs (as given) and a version tag.
 * The service reads the input, so its contents are not hashed: the same command names the same
 * batch (continued, or returned when finished) until the service forgets it (its retention).
 */
export function referenceFingerprint(reference: { inputUrl: string; outputUrl?: string }): string {
  const { inputUrl, outputUrl = null } = reference;
  const hash = createHash('sha256').update(JSON.stringify({ v: 1, source: 'url', inputUrl, outputUrl }));
  return `submit-${hash.digest('hex').slice(0, 40)}`;
}
