import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { synthesizeModel } from '@rerank-pool/model-synth';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveModelRef } from '../src/index.js';
import { FakeHub } from './fake-hub.js';
import { fakeRepo, filesFromDir, tempDir } from './fixtures.js';

const ID = 'cross-encoder/synthetic-tiny';

describe('when the Hub serves a real (synthetic) cross-encoder export', () => {
  let hub: FakeHub;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let source: Record<string, Buffer>;

  beforeEach(async () => {
    work = await tempDir();
    const model = await synthesizeModel({ preset: 'tiny', outDir: join(work.path, 'export'), seed: 7 });
    source = await filesFromDir(model.dir);
    hub = await FakeHub.start([fakeRepo(ID, source)]);
  });
  afterEach(async () => {
    await hub.close();
    await work.remove();
  });

  it('should resolve to a snapshot holding byte-identical model files', async () => {
    const resolved = await resolveModelRef(ID, { endpoint: hub.url, cacheDir: join(work.path, 'cache'), offline: false });

    expect(resolved.source).toBe('hub-download');
    expect(Object.keys(source).sort()).toEqual(['config.json', 'model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    for (const [path, bytes] of Object.entries(source)) {
      expect(await readFile(join(resolved.dir, path)), path).toEqual(bytes);
    }
  });
});
