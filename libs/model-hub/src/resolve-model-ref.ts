import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { findCachedSnapshot } from './cache-layout.js';
import { HubError } from './errors.js';
import { assertHubId } from './hub-id.js';
import { resolvePullOptions, type PullOptions } from './hub-options.js';
import { notCachedError, pullModel } from './pull-model.js';

export interface ResolvedModel {
  /** The Hub id, or the folder's basename for a directory reference. */
  id: string;
  /** Absolute directory holding the model files. */
  dir: string;
  source: 'directory' | 'hub-cache' | 'hub-download';
}

export interface ResolveModelRefOptions extends PullOptions {
  /** Pull from the Hub when the model is not cached. Default: true. */
  download?: boolean;
}

/** 'directory' when `ref` names an existing directory; throws HUB_BAD_ID for an existing file. */
function refKind(ref: string): 'directory' | 'other' {
  const stats = statSync(ref, { throwIfNoEntry: false });
  if (stats === undefined) return 'other';
  if (stats.isDirectory()) return 'directory';
  throw new HubError(
    'HUB_BAD_ID',
    `"${ref}" is a file; pass the directory holding config.json, tokenizer.json and the .onnx file, or a Hub id`,
  );
}

/**
 * The id a model reference is served under: the basename of an existing directory, else the
 * Hub id itself (validated). Touches the filesystem only to test whether `ref` exists.
 */
export function modelIdFromRef(ref: string): string {
  if (refKind(ref) === 'directory') return basename(resolve(ref));
  assertHubId(ref);
  return ref;
}

/**
 * Turns a model reference into a local directory. An existing directory wins (so a local
 * export shadows a Hub id of the same shape); otherwise `ref` is a Hub id served from the
 * cache when a complete snapshot of the revision is there, with no request at all (start-up
 * must not depend on the Hub being up), and pulled only when it is not.
 * `rerank-pool model pull` is the way to refresh a cached branch.
 */
export async function resolveModelRef(ref: string, options: ResolveModelRefOptions = {}): Promise<ResolvedModel> {
  if (refKind(ref) === 'directory') return { id: basename(resolve(ref)), dir: resolve(ref), source: 'directory' };
  assertHubId(ref);
  const resolved = resolvePullOptions(options);
  const cached = await findCachedSnapshot(resolved.cacheDir, ref, resolved.revision, resolved.variant);
  if (cached !== undefined) return { id: ref, dir: cached.dir, source: 'hub-cache' };
  if (resolved.offline) throw notCachedError('HUB_OFFLINE', ref, resolved);
  if (options.download === false) throw notCachedError('HUB_NOT_CACHED', ref, resolved);
  const pulled = await pullModel(ref, options);
  return { id: ref, dir: pulled.dir, source: 'hub-download' };
}
