import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubError, pullModel } from '../src/index.js';
import { FakeHub } from './fake-hub.js';
import { COMMIT, fakeRepo, modelFiles, tempDir } from './fixtures.js';

const ID = 'org/tampered';
const repoDir = (cacheDir: string) => join(cacheDir, 'models--org--tampered');

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('when the served bytes do not match the hash in the listing', () => {
  let hub: FakeHub;
  let cache: Awaited<ReturnType<typeof tempDir>>;

  beforeEach(async () => {
    hub = await FakeHub.start([fakeRepo(ID, modelFiles(['model.onnx']))]);
    cache = await tempDir();
  });
  afterEach(async () => {
    await hub.close();
    await cache.remove();
  });

  it('should fail with HUB_VERIFY_FAILED and leave no file behind for an LFS file (sha256)', async () => {
    hub.corrupt.add('model.onnx');

    const failure = await pullModel(ID, { endpoint: hub.url, cacheDir: cache.path, offline: false }).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(HubError);
    expect((failure as HubError).code).toBe('HUB_VERIFY_FAILED');
    expect((failure as HubError).message).toMatch(/model\.onnx.*sha256/);
    expect(await exists(join(repoDir(cache.path), 'snapshots', COMMIT, 'model.onnx'))).toBe(false);
    expect(await exists(join(repoDir(cache.path), 'refs', 'main'))).toBe(false);
    const blobs = await readdir(join(repoDir(cache.path), 'blobs'));
    expect(blobs.filter((name) => name.endsWith('.incomplete'))).toEqual([]);
    expect(blobs).toHaveLength(4); // the four verified JSON files only
  });

  it('should fail with HUB_VERIFY_FAILED for a regular git file (git blob sha1)', async () => {
    hub.corrupt.add('tokenizer.json');

    const failure = await pullModel(ID, { endpoint: hub.url, cacheDir: cache.path, offline: false }).catch((e: unknown) => e);

    expect((failure as HubError).code).toBe('HUB_VERIFY_FAILED');
    expect((failure as HubError).message).toMatch(/tokenizer\.json.*git sha1/);
    expect(await exists(join(repoDir(cache.path), 'snapshots', COMMIT, 'tokenizer.json'))).toBe(false);
  });

  it('should pull cleanly once the server serves the right bytes again', async () => {
    hub.corrupt.add('model.onnx');
    await pullModel(ID, { endpoint: hub.url, cacheDir: cache.path, offline: false }).catch(() => undefined);
    hub.corrupt.clear();

    const pulled = await pullModel(ID, { endpoint: hub.url, cacheDir: cache.path, offline: false });

    expect(pulled.files).toContain('model.onnx');
  });
});
