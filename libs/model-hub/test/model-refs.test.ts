import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubError, isHubId, modelIdFromRef, resolveModelRef } from '../src/index.js';
import { tempDir } from './fixtures.js';

describe('when a model reference is a directory', () => {
  let root: Awaited<ReturnType<typeof tempDir>>;

  beforeEach(async () => {
    root = await tempDir();
    await mkdir(join(root.path, 'my-reranker'));
  });
  afterEach(() => root.remove());

  it('should resolve to itself with the basename as id, without touching the Hub', async () => {
    const dir = join(root.path, 'my-reranker');

    // An unusable endpoint proves no request is attempted.
    const resolved = await resolveModelRef(`${dir}/`, { endpoint: 'http://127.0.0.1:1', cacheDir: root.path, offline: false });

    expect(resolved).toEqual({ id: 'my-reranker', dir, source: 'directory' });
    expect(modelIdFromRef(dir)).toBe('my-reranker');
  });

  it('should reject a path to a file with HUB_BAD_ID', async () => {
    const file = join(root.path, 'model.onnx');
    await writeFile(file, 'x');

    expect(() => modelIdFromRef(file)).toThrowError(/is a file/);
    await expect(resolveModelRef(file, { cacheDir: root.path })).rejects.toMatchObject({ code: 'HUB_BAD_ID' });
  });
});

describe('when a model reference is not a directory', () => {
  it('should accept the org/name and name shapes as Hub ids', () => {
    for (const id of ['cross-encoder/ms-marco-MiniLM-L-6-v2', 'BAAI/bge-reranker-base', 'bert-base-uncased', 'a/b.c_d-1']) {
      expect(isHubId(id), id).toBe(true);
      expect(modelIdFromRef(id)).toBe(id);
    }
  });

  it('should reject junk with HUB_BAD_ID and say what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['a/b/c', /at most one '\/'/],
      ['./missing-model', /'\.'/],
      ['/no/such/dir', /'\/'/],
      ['org/name with space', /letters, digits/],
      ['org--x/name', /'--'/],
      ['org/name.git', /\.git/],
      [`org/${'x'.repeat(97)}`, /1-96/],
    ];
    for (const [ref, reason] of cases) {
      expect(isHubId(ref), ref).toBe(false);
      let error: unknown;
      try {
        modelIdFromRef(ref);
      } catch (e) {
        error = e;
      }
      expect(error, ref).toBeInstanceOf(HubError);
      expect((error as HubError).code).toBe('HUB_BAD_ID');
      expect((error as HubError).message, ref).toMatch(reason);
      expect((error as HubError).message).toContain('not an existing model directory');
    }
  });
});
