import { createHash } from 'node:crypto';
import { lstat, readFile, readlink, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pullModel, resolveModelRef } from '../src/index.js';
import { FakeHub } from './fake-hub.js';
import { COMMIT, fakeRepo, modelFiles, tempDir } from './fixtures.js';

const ID = 'cross-encoder/fake-minilm';

describe('when a model is pulled from the Hub', () => {
  let hub: FakeHub;
  let cache: Awaited<ReturnType<typeof tempDir>>;
  const files = modelFiles();

  beforeEach(async () => {
    hub = await FakeHub.start([fakeRepo(ID, files)]);
    cache = await tempDir();
  });
  afterEach(async () => {
    await hub.close();
    await cache.remove();
  });

  it('should lay the files out like the huggingface_hub cache', async () => {
    const pulled = await pullModel(ID, { endpoint: hub.url, cacheDir: cache.path, offline: false });

    const repoDir = join(cache.path, 'models--cross-encoder--fake-minilm');
    expect(pulled).toEqual({
      hubId: ID,
      revision: 'main',
      commit: COMMIT,
      dir: join(repoDir, 'snapshots', COMMIT),
      files: ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'onnx/model.onnx'],
    });
    expect(await readFile(join(repoDir, 'refs', 'main'), 'utf8')).toBe(COMMIT);
    for (const path of pulled.files) {
      const pointer = join(pulled.dir, path);
      expect((await lstat(pointer)).isSymbolicLink()).toBe(true);
      expect(await readFile(pointer)).toEqual(files[path]);
    }
    // LFS blobs are named by their sha256, like huggingface_hub does with X-Linked-Etag.
    const onnxSha = createHash('sha256').update(files['onnx/model.onnx']).digest('hex');
    expect(await readlink(join(pulled.dir, 'onnx/model.onnx'))).toBe(`../../../blobs/${onnxSha}`);
    const blobs = await readdir(join(repoDir, 'blobs'));
    expect(blobs).toHaveLength(5);
    expect(blobs.some((name) => name.endsWith('.incomplete'))).toBe(false);
    // README.md is not needed to serve the model, so it is not fetched.
    expect(hub.requestsTo('README.md')).toHaveLength(0);
  });

  it('should report progress per file up to its size', async () => {
    const seen = new Map<string, { downloaded: number; total: number }>();
    await pullModel(ID, { endpoint: hub.url, cacheDir: cache.path, offline: false, onProgress: (p) => seen.set(p.file, p) });

    expect(seen.get('onnx/model.onnx')).toEqual({ file: 'onnx/model.onnx', downloaded: 300_000, total: 300_000 });
    expect([...seen.keys()].sort()).toEqual(
      ['config.json', 'onnx/model.onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json'],
    );
  });

  it('should resolve the id to the snapshot, then serve it from the cache without any request', async () => {
    const options = { endpoint: hub.url, cacheDir: cache.path, offline: false };

    const first = await resolveModelRef(ID, options);
    const requestsAfterFirst = hub.requests.length;
    const second = await resolveModelRef(ID, options);

    expect(first).toEqual({ id: ID, dir: join(cache.path, 'models--cross-encoder--fake-minilm', 'snapshots', COMMIT), source: 'hub-download' });
    expect(second).toEqual({ ...first, source: 'hub-cache' });
    expect(requestsAfterFirst).toBeGreaterThan(0);
    expect(hub.requests.length).toBe(requestsAfterFirst);
  });

  it('should not download cached blobs again when pulling a second time', async () => {
    const options = { endpoint: hub.url, cacheDir: cache.path, offline: false };
    await pullModel(ID, options);
    const downloadsBefore = hub.requestsTo('/resolve/').length;

    await pullModel(ID, options);

    expect(hub.requestsTo('/resolve/').length).toBe(downloadsBefore);
  });
});
