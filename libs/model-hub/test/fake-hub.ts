import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for huggingface.co serving the three endpoints the model-hub library uses, with
 * the same URL layout, JSON shapes and headers as the real Hub:
 *   GET /api/models/{id}/revision/{rev}   model info with `sha`
 *   GET /api/models/{id}/tree/{rev}       recursive listing, `lfs: {oid, size}` for LFS files
 *   GET /{id}/resolve/{rev}/{path}        content with ETag, X-Repo-Commit, X-Linked-*; Range -> 206
 * Faults (cut connections, corrupt bytes, ignored Range, required token) are switched per test.
 */

export interface FakeRepo {
  id: string;
  commit: string;
  /** Branch/tag -> commit. Default: { main: commit }. */
  refs?: Record<string, string>;
  files: Record<string, Buffer>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  range: string | undefined;
  authorization: string | undefined;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const gitBlobSha1 = (data: Buffer) => createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');

/** Like the Hub: ONNX graphs and anything large live in LFS, small text files in plain git. */
const isLfs = (path: string, data: Buffer) => path.includes('.onnx') || data.length > 10_000;

function lfsPointer(data: Buffer): string {
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(data)}\nsize ${data.length}\n`;
}

export class FakeHub {
  readonly requests: RecordedRequest[] = [];
  /**
   * Path -> cut: the next download of that path sends `bytes` bytes, waits for `before` (e.g.
   * until the client has them on disk: bytes still in flight when a socket dies are lost, which
   * would make the resume offset timing-dependent), then drops the connection.
   */
  readonly cutAfter = new Map<string, { bytes: number; before?: () => Promise<void> }>();
  /** Paths served with one byte flipped (the listing keeps the true hash). */
  readonly corrupt = new Set<string>();
  /** Answer every Range request with 200 and the whole file, as some proxies do. */
  ignoreRange = false;
  /** When set, every request must carry `Authorization: Bearer <token>`, else 401. */
  requiredToken: string | undefined;

  private constructor(
    private readonly server: Server,
    private readonly repos: FakeRepo[],
    readonly url: string,
  ) {}

  static async start(repos: FakeRepo[]): Promise<FakeHub> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const hub = new FakeHub(server, repos, `http://127.0.0.1:${port}`);
    server.on('request', (req, res) => hub.handle(req, res));
    return hub;
  }

  /** Requests whose path contains `fragment` (e.g. a file's repo path). */
  requestsTo(fragment: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.includes(fragment));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url ?? '/', this.url).pathname);
    this.requests.push({ method: req.method ?? 'GET', path, range: req.headers.range, authorization: req.headers.authorization });
    if (this.requiredToken !== undefined && req.headers.authorization !== `Bearer ${this.requiredToken}`) {
      return json(res, 401, { error: 'Access to model is restricted. You must have access to it and be authenticated to access it.' });
    }
    for (const repo of this.repos) {
      const api = `/api/models/${repo.id}/`;
      if (path.startsWith(api)) return this.api(repo, path.slice(api.length), res);
      const resolve = `/${repo.id}/resolve/`;
      if (path.startsWith(resolve)) return this.resolve(repo, path.slice(resolve.length), req, res);
    }
    json(res, 404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
  }

  private commitOf(repo: FakeRepo, revision: string): string | undefined {
    if (revision === repo.commit) return repo.commit;
    return (repo.refs ?? { main: repo.commit })[revision];
  }

  private api(repo: FakeRepo, rest: string, res: ServerResponse): void {
    const [kind, revision] = rest.split('/');
    const commit = this.commitOf(repo, revision ?? '');
    if (commit === undefined) {
      return json(res, 404, { error: `Invalid rev id: ${revision}` }, { 'X-Error-Code': 'RevisionNotFound' });
    }
    if (kind === 'revision') {
      return json(res, 200, {
        _id: `fake-${repo.id}`,
        id: repo.id,
        sha: commit,
        private: false,
        gated: false,
        downloads: 0,
        likes: 0,
        pipeline_tag: 'text-classification',
        lastModified: '2024-01-01T00:00:00.000Z',
      });
    }
    if (kind === 'tree') return json(res, 200, treeEntries(repo.files));
    json(res, 404, { error: 'Not found' });
  }

  private resolve(repo: FakeRepo, rest: string, req: IncomingMessage, res: ServerResponse): void {
    const slash = rest.indexOf('/');
    const commit = this.commitOf(repo, rest.slice(0, slash));
    const filePath = rest.slice(slash + 1);
    const original = repo.files[filePath];
    if (commit === undefined || original === undefined) {
      return json(res, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
    }
    let data = original;
    if (this.corrupt.has(filePath)) {
      data = Buffer.from(original);
      data[data.length >> 1] ^= 0xff;
    }
    const lfs = isLfs(filePath, original);
    const headers: Record<string, string> = {
      ETag: `"${lfs ? sha256(original) : gitBlobSha1(original)}"`,
      'X-Repo-Commit': commit,
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
      ...(lfs && { 'X-Linked-Etag': `"${sha256(original)}"`, 'X-Linked-Size': String(original.length) }),
    };
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let status = 200;
    let start = 0;
    if (range && !this.ignoreRange) {
      start = Number(range[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${data.length}` });
        return void res.end();
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
    }
    const body = data.subarray(start);
    res.writeHead(status, { ...headers, 'Content-Length': String(body.length) });
    const cut = this.cutAfter.get(filePath);
    if (cut !== undefined) {
      this.cutAfter.delete(filePath);
      // Flush the first bytes, then drop the socket mid-body as a failing network would.
      res.write(body.subarray(0, cut.bytes), () => {
        void (cut.before?.() ?? Promise.resolve()).finally(() => res.socket?.destroy());
      });
      return;
    }
    res.end(body);
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function treeEntries(files: Record<string, Buffer>): unknown[] {
  const directories = new Set<string>();
  const entries: unknown[] = [];
  for (const [path, data] of Object.entries(files)) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) directories.add(parts.slice(0, i).join('/'));
    if (isLfs(path, data)) {
      const pointer = lfsPointer(data);
      entries.push({
        type: 'file',
        path,
        size: data.length,
        oid: gitBlobSha1(Buffer.from(pointer)),
        lfs: { oid: sha256(data), size: data.length, pointerSize: pointer.length },
      });
    } else {
      entries.push({ type: 'file', path, size: data.length, oid: gitBlobSha1(data) });
    }
  }
  return [...[...directories].map((path) => ({ type: 'directory', path, size: 0, oid: sha256(path).slice(0, 40) })), ...entries];
}
