import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HubError } from './errors.js';
import { blobEtag, contentSize } from './file-verification.js';
import { createHubFetch, listRepoFiles, resolveCommit, type HubConnection, type RepoFile } from './hub-client.js';
import { assertHubId } from './hub-id.js';
import { resolvePullOptions, type PullOptions, type ResolvedPullOptions } from './hub-options.js';
import {
  blobPath,
  findCachedSnapshot,
  hasBlob,
  linkIntoSnapshot,
  repoCacheDir,
  snapshotDir,
  writeRef,
} from './cache-layout.js';
import { selectModelFiles } from './model-files.js';
import { downloadBlob } from './resumable-download.js';

export interface PulledModel {
  hubId: string;
  /** The revision asked for (branch, tag or sha). */
  revision: string;
  /** The commit sha the revision resolved to; names the snapshot directory. */
  commit: string;
  /** Snapshot directory: config.json, tokenizer files and the chosen ONNX file at its repo path. */
  dir: string;
  /** Repo-relative paths of the files in `dir` (the ONNX file among them). */
  files: string[];
}

/** The error for a model that must come from the cache but is not there. */
export function notCachedError(code: 'HUB_OFFLINE' | 'HUB_NOT_CACHED', hubId: string, options: ResolvedPullOptions): HubError {
  const variant = options.variant === undefined ? '' : ` --variant ${options.variant}`;
  const pull = `rerank-pool model pull ${hubId} --revision ${options.revision}${variant}`;
  const why =
    code === 'HUB_OFFLINE'
      ? `offline mode is on (HF_HUB_OFFLINE / offline: true). Run \`${pull}\` with network access ` +
        '(the cache directory can be copied to this machine), or turn offline mode off'
      : `downloads are disabled for this lookup. Run \`${pull}\` first`;
  return new HubError(
    code,
    `Model "${hubId}" (revision ${options.revision}${variant}) is not in the Hugging Face cache at ${options.cacheDir}, and ${why}.`,
  );
}

function resolveUrl(endpoint: string, hubId: string, commit: string, path: string): string {
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${hubId}/resolve/${commit}/${encodedPath}`;
}

/** Downloads one file into the blob store, resuming after interruptions up to `retries` times. */
async function fetchBlob(
  connection: HubConnection,
  options: ResolvedPullOptions,
  hubId: string,
  commit: string,
  file: RepoFile,
  blob: string,
): Promise<void> {
  const download = {
    url: resolveUrl(connection.endpoint, hubId, commit, file.path),
    label: `${hubId}@${commit.slice(0, 12)}: ${file.path}`,
    endpoint: connection.endpoint,
    file,
    blobPath: blob,
    fetch: createHubFetch(connection),
    onProgress: (downloaded: number, total: number) => options.onProgress({ file: file.path, downloaded, total }),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      return await downloadBlob(download);
    } catch (error) {
      if (!(error instanceof HubError) || error.code !== 'HUB_INTERRUPTED' || attempt >= options.retries) throw error;
      // Brief, growing pause: a dropped connection is often a proxy or CDN hiccup.
      await sleep(250 * 2 ** attempt);
    }
  }
}

/**
 * Downloads a cross-encoder's ONNX graph and tokenizer files from the Hub into the
 * huggingface_hub cache and returns the snapshot directory holding them.
 *
 * Online, the revision is always resolved to its current commit (one small request), and files
 * whose verified blob is already cached are not downloaded again. Offline, the cached snapshot
 * is returned or HUB_OFFLINE thrown, without any network access.
 */
export async function pullModel(hubId: string, options: PullOptions = {}): Promise<PulledModel> {
  assertHubId(hubId);
  const resolved = resolvePullOptions(options);
  const { cacheDir, revision } = resolved;

  if (resolved.offline) {
    const cached = await findCachedSnapshot(cacheDir, hubId, revision, resolved.variant);
    if (cached === undefined) throw notCachedError('HUB_OFFLINE', hubId, resolved);
    return { hubId, revision, commit: cached.commit, dir: cached.dir, files: cached.files };
  }

  const connection: HubConnection = { endpoint: resolved.endpoint, token: resolved.token, fetch: resolved.fetch };
  const commit = await resolveCommit(connection, hubId, revision);
  // Listing at the commit rather than the branch keeps every file from one consistent
  // revision even if the branch moves while we download.
  const listing = new Map((await listRepoFiles(connection, hubId, commit)).map((file) => [file.path, file]));
  const { files } = selectModelFiles(listing.keys(), resolved.variant, `${hubId}@${revision}`);

  const repoDir = repoCacheDir(cacheDir, hubId);
  const dir = snapshotDir(repoDir, commit);
  await mkdir(join(repoDir, 'blobs'), { recursive: true });
  for (const path of files) {
    const file = listing.get(path)!;
    const blob = blobPath(repoDir, blobEtag(file));
    if (await hasBlob(blob, contentSize(file))) {
      resolved.onProgress({ file: path, downloaded: contentSize(file), total: contentSize(file) });
    } else {
      await fetchBlob(connection, resolved, hubId, commit, file, blob);
    }
    await linkIntoSnapshot(blob, join(dir, ...path.split('/')));
  }
  // Last, so that a ref only ever points at a complete snapshot.
  await writeRef(repoDir, revision, commit);
  return { hubId, revision, commit, dir, files };
}
