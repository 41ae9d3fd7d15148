import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pullModel, resolveModelRef } from '../src/index.js';
import { FakeHub } from './fake-hub.js';
import { COMMIT, failureOf, fakeRepo, tempDir } from './fixtures.js';

const ID = 'org/offline-model';

/** A URL on which nothing listens: connections are refused. */
async function deadEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('when the Hub cannot be used', () => {
  let cache: Awaited<ReturnType<typeof tempDir>>;
  const savedOffline = process.env.HF_HUB_OFFLINE;

  beforeEach(async () => {
    cache = await tempDir();
    delete process.env.HF_HUB_OFFLINE;
  });
  afterEach(async () => {
    if (savedOffline === undefined) delete process.env.HF_HUB_OFFLINE;
    else process.env.HF_HUB_OFFLINE = savedOffline;
    await cache.remove();
  });

  async function pullThenStopHub(): Promise<string> {
    const hub = await FakeHub.start([fakeRepo(ID)]);
    const pulled = await pullModel(ID, { endpoint: hub.url, cacheDir: cache.path, offline: false });
    await hub.close();
    return pulled.dir;
  }

  it('should resolve a cached model with offline: true while the server is stopped', async () => {
    const dir = await pullThenStopHub();

    const resolved = await resolveModelRef(ID, { endpoint: await deadEndpoint(), cacheDir: cache.path, offline: true });
    const pulled = await pullModel(ID, { endpoint: await deadEndpoint(), cacheDir: cache.path, offline: true });

    expect(resolved).toEqual({ id: ID, dir, source: 'hub-cache' });
    expect(pulled.dir).toBe(dir);
    expect(pulled.files).toContain('onnx/model.onnx');
  });

  it('should honour HF_HUB_OFFLINE=1 from the environment', async () => {
    const dir = await pullThenStopHub();
    process.env.HF_HUB_OFFLINE = '1';

    // pullModel always asks the Hub for the current commit unless offline: it would fail here.
    const pulled = await pullModel(ID, { endpoint: await deadEndpoint(), cacheDir: cache.path });

    expect(pulled.dir).toBe(dir);
  });

  it('should explain how to get the model when it is not cached and offline mode is on', async () => {
    process.env.HF_HUB_OFFLINE = 'true';

    const error = await failureOf(resolveModelRef(ID, { endpoint: await deadEndpoint(), cacheDir: cache.path, revision: 'v2' }));

    expect(error.code).toBe('HUB_OFFLINE');
    expect(error.message).toContain(ID);
    expect(error.message).toContain('revision v2');
    expect(error.message).toContain(cache.path);
    expect(error.message).toContain(`rerank-pool model pull ${ID} --revision v2`);
  });

  it('should not take the snapshot of an interrupted pull for a cached model', async () => {
    const hub = await FakeHub.start([fakeRepo(ID)]);
    hub.cutAfter.set('onnx/model.onnx', { bytes: 1000 });
    // Pinned to the commit, the snapshot needs no ref: only its content says whether it is complete.
    const options = { endpoint: hub.url, cacheDir: cache.path, revision: COMMIT, retries: 0 };
    const interrupted = await failureOf(pullModel(ID, { ...options, offline: false }));
    await hub.close();

    const error = await failureOf(resolveModelRef(ID, { ...options, offline: true }));

    expect(interrupted.code).toBe('HUB_INTERRUPTED');
    expect(error.code).toBe('HUB_OFFLINE');
  });

  it('should report HUB_UNREACHABLE naming the endpoint when nothing answers', async () => {
    const endpoint = await deadEndpoint();

    const error = await failureOf(pullModel(ID, { endpoint, cacheDir: cache.path, offline: false }));

    expect(error.code).toBe('HUB_UNREACHABLE');
    expect(error.message).toContain(endpoint);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('should refuse to download with download: false when the model is not cached', async () => {
    const error = await failureOf(
      resolveModelRef(ID, { endpoint: await deadEndpoint(), cacheDir: cache.path, offline: false, download: false }),
    );

    expect(error.code).toBe('HUB_NOT_CACHED');
    expect(error.message).toContain(`rerank-pool model pull ${ID}`);
  });
});
