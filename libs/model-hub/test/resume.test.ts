import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubError, pullModel } from '../src/index.js';
import { FakeHub } from './fake-hub.js';
import { fakeRepo, modelFiles, tempDir } from './fixtures.js';

const ID = 'org/resumable';
const ONNX = 'onnx/model.onnx';

describe('when an ONNX download breaks off', () => {
  let hub: FakeHub;
  let cache: Awaited<ReturnType<typeof tempDir>>;
  const files = modelFiles([ONNX], 400_000);
  const blobsDir = () => join(cache.path, 'models--org--resumable', 'blobs');
  const onnxBlob = () => join(blobsDir(), createHash('sha256').update(files[ONNX]).digest('hex'));

  /** Resolves once the client has written `bytes` bytes of the partial download to disk. */
  const partialReaches = (bytes: number) => async () => {
    while ((await stat(`${onnxBlob()}.incomplete`).catch(() => undefined))?.size !== bytes) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  beforeEach(async () => {
    hub = await FakeHub.start([fakeRepo(ID, files)]);
    cache = await tempDir();
  });
  afterEach(async () => {
    await hub.close();
    await cache.remove();
  });

  it('should keep the partial file and resume it with a Range request on the next pull', async () => {
    const options = { endpoint: hub.url, cacheDir: cache.path, offline: false, retries: 0 };
    hub.cutAfter.set(ONNX, { bytes: 150_000, before: partialReaches(150_000) });

    const failure = await pullModel(ID, options).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HubError);
    expect((failure as HubError).code).toBe('HUB_INTERRUPTED');
    expect((failure as HubError).message).toContain('after 150000 of 400000 bytes');
    expect((await stat(`${onnxBlob()}.incomplete`)).size).toBe(150_000);

    const pulled = await pullModel(ID, options);

    const onnxRequests = hub.requestsTo(ONNX);
    expect(onnxRequests.map((r) => r.range)).toEqual([undefined, 'bytes=150000-']);
    expect(await readFile(join(pulled.dir, ONNX))).toEqual(files[ONNX]);
    expect((await readdir(blobsDir())).filter((name) => name.endsWith('.incomplete'))).toEqual([]);
  });

  it('should resume within the same pull when retries are left', async () => {
    hub.cutAfter.set(ONNX, { bytes: 100_000, before: partialReaches(100_000) });

    const pulled = await pullModel(ID, { endpoint: hub.url, cacheDir: cache.path, offline: false });

    expect(hub.requestsTo(ONNX).map((r) => r.range)).toEqual([undefined, 'bytes=100000-']);
    expect(await readFile(join(pulled.dir, ONNX))).toEqual(files[ONNX]);
  });

  it('should restart from the beginning when the server ignores Range and answers 200', async () => {
    // A partial from an earlier run whose bytes are wrong beyond repair if appended to.
    await mkdir(blobsDir(), { recursive: true });
    await writeFile(`${onnxBlob()}.incomplete`, Buffer.alloc(200_000, 7));
    hub.ignoreRange = true;

    const pulled = await pullModel(ID, { endpoint: hub.url, cacheDir: cache.path, offline: false });

    expect(hub.requestsTo(ONNX).map((r) => r.range)).toEqual(['bytes=200000-']);
    expect(await readFile(join(pulled.dir, ONNX))).toEqual(files[ONNX]);
  });
});
