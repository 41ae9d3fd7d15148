import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countBertParameters, SYNTH_PRESETS, synthesizeModel, type SynthPresetName } from '@rerank-pool/model-synth';
import { readInitializers } from './support/onnx-initializers.js';
import { makeTempDir } from './support/temp-dir.js';

const FLOAT = 1;

async function writtenParameters(modelPath: string): Promise<number> {
  const initializers = await readInitializers(modelPath);
  for (const tensor of initializers) {
    expect(tensor.dataType, tensor.name).toBe(FLOAT);
    expect(tensor.rawBytes, tensor.name).toBe(4 * tensor.dims.reduce((size, dim) => size * dim, 1));
  }
  return initializers.reduce((sum, tensor) => sum + tensor.dims.reduce((size, dim) => size * dim, 1), 0);
}

describe('when counting parameters of the presets', () => {
  it('should match the real checkpoints', () => {
    expect(countBertParameters(SYNTH_PRESETS['minilm-l6'])).toBe(22_713_601);
    expect(countBertParameters(SYNTH_PRESETS['tinybert-l2'])).toBe(4_386_049);
  });
});

describe('when a model is written', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeEach(async () => {
    temp = await makeTempDir();
  });
  afterEach(async () => {
    await temp.remove();
  });

  it.each<SynthPresetName>(['tiny', 'tinybert-l2'])('should write exactly the %s parameters as initializers', async (preset) => {
    const model = await synthesizeModel({ preset, outDir: temp.dir });
    const expected = countBertParameters(SYNTH_PRESETS[preset]);
    expect(model.parameterCount).toBe(expected);
    expect(await writtenParameters(path.join(model.dir, 'model.onnx'))).toBe(expected);
  });

  it('should write a minilm-l6 that onnxruntime loads, with 22,713,601 parameters', async () => {
    const started = performance.now();
    const model = await synthesizeModel({ preset: 'minilm-l6', outDir: temp.dir });
    const seconds = (performance.now() - started) / 1000;
    expect(seconds).toBeLessThan(10);

    const modelPath = path.join(model.dir, 'model.onnx');
    expect(await writtenParameters(modelPath)).toBe(22_713_601);
    const session = await ort.InferenceSession.create(modelPath);
    try {
      expect(session.outputNames).toEqual(['logits']);
    } finally {
      await session.release();
    }
  });
});
