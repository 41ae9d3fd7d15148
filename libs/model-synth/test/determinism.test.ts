import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { synthesizeModel } from '@rerank-pool/model-synth';
import { makeTempDir } from './support/temp-dir.js';

describe('when the same preset is synthesized twice', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeEach(async () => {
    temp = await makeTempDir();
  });
  afterEach(async () => {
    await temp.remove();
  });

  const modelBytes = async (seed: number | undefined, name: string): Promise<Buffer> => {
    const model = await synthesizeModel({ preset: 'tinybert-l2', outDir: path.join(temp.dir, name), seed });
    return readFile(path.join(model.dir, 'model.onnx'));
  };

  it('should write a byte-identical model.onnx for the same seed', async () => {
    const first = await modelBytes(7, 'a');
    const second = await modelBytes(7, 'b');
    expect(first.equals(second)).toBe(true);
  });

  it('should default to seed 42', async () => {
    expect((await modelBytes(undefined, 'a')).equals(await modelBytes(42, 'b'))).toBe(true);
  });

  it('should write different weights for a different seed', async () => {
    const first = await modelBytes(7, 'a');
    const second = await modelBytes(8, 'b');
    expect(first.length).toBe(second.length);
    expect(first.equals(second)).toBe(false);
  });

  it('should overwrite the files of an earlier run in the same directory', async () => {
    await modelBytes(7, 'same');
    const again = await modelBytes(8, 'same');
    const config = JSON.parse(await readFile(path.join(temp.dir, 'same', 'config.json'), 'utf8'));
    expect(config.rerank_pool_synthetic).toEqual({ preset: 'tinybert-l2', seed: 8 });
    expect(again.equals(await modelBytes(8, 'fresh'))).toBe(true);
  });
});
