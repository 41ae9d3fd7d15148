import { HubApiError, listFiles, modelInfo } from '@huggingface/hub';
import { HubError } from './errors.js';

/** What the Hub tells us about one file of a repo at a commit. */
export interface RepoFile {
  path: string;
  size: number;
  /** Git blob sha1 of the file as stored in git (for LFS files: of the pointer). */
  oid: string;
  /** Present for LFS (and Xet) files: sha256 and size of the real content. */
  lfs?: { oid: string; size: number };
}

export interface HubConnection {
  endpoint: string;
  token: string | undefined;
  fetch: typeof fetch;
}

// Error codes (on the error or its cause chain) that mean "the endpoint cannot be reached",
// as opposed to "the endpoint answered something we did not like".
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function networkCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    if (current.name === 'TimeoutError' || current.name === 'AbortError') return current.name;
  }
  return undefined;
}

/** True when `error` is a transport failure (refused, reset, DNS, timeout) rather than an HTTP answer. */
export function isNetworkError(error: unknown): boolean {
  return networkCode(error) !== undefined;
}

/**
 * fetch with the token attached and transport failures turned into HUB_UNREACHABLE. Handed to
 * @huggingface/hub as its `fetch`, so it also covers the client's own calls. The token goes in
 * a header here rather than the client's `accessToken`, which rejects tokens not starting with
 * "hf_" (enterprise proxies and mirrors issue others).
 */
export function createHubFetch(connection: HubConnection): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    if (connection.token !== undefined) headers.set('Authorization', `Bearer ${connection.token}`);
    try {
      return await connection.fetch(input, { ...init, headers });
    } catch (error) {
      const code = networkCode(error);
      if (code === undefined) throw error;
      throw new HubError(
        'HUB_UNREACHABLE',
        `Cannot reach the Hugging Face Hub at ${connection.endpoint} (${code}). Check the network or HF_ENDPOINT, ` +
          'or set HF_HUB_OFFLINE=1 to use models already in the cache.',
        { cause: error },
      );
    }
  };
}

/** Maps an HTTP error status for `what` (e.g. 'model "a/b" at revision "main"') to a HubError. */
export function httpStatusError(status: number, what: string, endpoint: string, detail?: string, cause?: unknown): HubError {
  const suffix = detail ? ` (${detail})` : '';
  if (status === 401 || status === 403) {
    return new HubError(
      'HUB_UNAUTHORIZED',
      `${endpoint} refused access to ${what} with HTTP ${status}${suffix}. Gated or private repositories need a ` +
        'token: accept the terms on the model page, create a read token and set HF_TOKEN. ' +
        '(The Hub also answers 401 for repositories that do not exist: check the id.)',
      { cause },
    );
  }
  if (status === 404) {
    return new HubError('HUB_NOT_FOUND', `${what} was not found on ${endpoint}${suffix}. Check the model id and --revision.`, {
      cause,
    });
  }
  return new HubError('HUB_BAD_RESPONSE', `${endpoint} answered HTTP ${status} for ${what}${suffix}`, { cause });
}

async function translate<T>(what: string, endpoint: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof HubApiError) {
      // The client folds the Hub's JSON error text into the message, followed by ". URL: ...".
      const detail = error.message.replace(/\. URL: .*$/s, '');
      throw httpStatusError(error.statusCode, what, endpoint, detail, error);
    }
    throw error;
  }
}

/** Resolves a branch/tag/sha to the commit sha it points at now. */
export async function resolveCommit(connection: HubConnection, hubId: string, revision: string): Promise<string> {
  const what = `model "${hubId}" at revision "${revision}"`;
  const info = await translate(what, connection.endpoint, () =>
    modelInfo({
      name: hubId,
      revision,
      additionalFields: ['sha'],
      hubUrl: connection.endpoint,
      fetch: createHubFetch(connection),
    }),
  );
  if (typeof info.sha !== 'string' || !/^[0-9a-f]{40}$/.test(info.sha)) {
    throw new HubError('HUB_BAD_RESPONSE', `${connection.endpoint} returned no commit sha for ${what}`);
  }
  return info.sha;
}

/** Lists every file of the repo at `commit` (recursively). */
export async function listRepoFiles(connection: HubConnection, hubId: string, commit: string): Promise<RepoFile[]> {
  return translate(`the file list of "${hubId}" at ${commit}`, connection.endpoint, async () => {
    const files: RepoFile[] = [];
    const entries = listFiles({
      repo: { type: 'model', name: hubId },
      revision: commit,
      recursive: true,
      hubUrl: connection.endpoint,
      fetch: createHubFetch(connection),
    });
    for await (const entry of entries) {
      if (entry.type !== 'file') continue;
      if (entry.oid === undefined) {
        throw new HubError('HUB_BAD_RESPONSE', `${connection.endpoint} listed ${entry.path} without a git oid`);
      }
      files.push({
        path: entry.path,
        size: entry.size,
        oid: entry.oid,
        ...(entry.lfs && { lfs: { oid: entry.lfs.oid, size: entry.lfs.size } }),
      });
    }
    return files;
  });
}
