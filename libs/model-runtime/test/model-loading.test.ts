import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferencePool, ModelRuntimeError } from '@rerank-pool/model-runtime';
import { withSyntheticModel } from './support/tiny-model.js';

async function openError(modelDir: string, extra: Record<string, unknown> = {}): Promise<ModelRuntimeError> {
  const error = await InferencePool.open({ modelDir, threads: 1, ...extra }).then(
    async (pool) => {
      await pool.close();
      throw new Error('expected the model to be refused');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelRuntimeError);
  return error as ModelRuntimeError;
}

describe('when a model directory is broken', () => {
  let model: Awaited<ReturnType<typeof withSyntheticModel>>;
  let copies = 0;

  function copy(): string {
    const dir = join(model.root, `copy-${copies++}`);
    cpSync(model.dir, dir, { recursive: true });
    return dir;
  }

  beforeAll(async () => {
    model = await withSyntheticModel('tiny');
  });
  afterAll(() => model?.cleanup());

  it('should name the directory when it does not exist', async () => {
    const error = await openError(join(model.root, 'nope'));
    expect(error.code).toBe('MODEL_DIR_MISSING');
    expect(error.message).toContain('nope');
  });

  it.each(['config.json', 'tokenizer.json', 'tokenizer_config.json'])('should name a missing %s', async (file) => {
    const dir = copy();
    rmSync(join(dir, file));
    const error = await openError(dir);
    expect(error.code).toBe('MODEL_FILE_MISSING');
    expect(error.message).toContain(file);
  });

  it('should name a missing ONNX file', async () => {
    const dir = copy();
    rmSync(join(dir, 'model.onnx'));
    const error = await openError(dir);
    expect(error.code).toBe('MODEL_FILE_MISSING');
    expect(error.message).toMatch(/model\.onnx/);
  });

  it('should name a file that is not JSON', async () => {
    const dir = copy();
    writeFileSync(join(dir, 'tokenizer.json'), '{"version": "1.0", ');
    const error = await openError(dir);
    expect(error.code).toBe('MODEL_FILE_MALFORMED');
    expect(error.message).toContain('tokenizer.json');
  });

  it('should name a corrupt ONNX file', async () => {
    const dir = copy();
    const bytes = readFileSync(join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'model.onnx'), bytes.subarray(0, Math.floor(bytes.length / 3)));
    const error = await openError(dir);
    expect(error.code).toBe('MODEL_ONNX_INVALID');
    expect(error.message).toContain(join(dir, 'model.onnx'));
  });

  it('should refuse a graph whose inputs are not a cross-encoder\'s', async () => {
    const dir = copy();
    // Same-length rename keeps every protobuf length prefix valid: the graph stays loadable.
    const bytes = readFileSync(join(dir, 'model.onnx'), 'latin1').replaceAll('attention_mask', 'attention_bias');
    writeFileSync(join(dir, 'model.onnx'), bytes, 'latin1');
    const error = await openError(dir);
    expect(error.code).toBe('MODEL_INPUTS_UNSUPPORTED');
    expect(error.message).toMatch(/missing attention_mask/);
    expect(error.message).toMatch(/unexpected attention_bias/);
  });

  it('should pick an ONNX variant and list the variants when one is missing', async () => {
    const dir = copy();
    mkdirSync(join(dir, 'onnx'));
    renameSync(join(dir, 'model.onnx'), join(dir, 'onnx', 'model_quantized.onnx'));
    const pool = await InferencePool.open({ modelDir: dir, threads: 1, variant: 'quantized' });
    try {
      expect(pool.model.onnxPath).toBe(join(dir, 'onnx', 'model_quantized.onnx'));
      expect((await pool.score('q', ['d'])).scores).toHaveLength(1);
    } finally {
      await pool.close();
    }
    const error = await openError(dir, { variant: 'fp16' });
    expect(error.code).toBe('MODEL_FILE_MISSING');
    expect(error.message).toContain('onnx/model_quantized.onnx');
  });

  it('should refuse a model with more than two labels', async () => {
    const dir = copy();
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    config.id2label = { 0: 'a', 1: 'b', 2: 'c' };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const error = await openError(dir);
    expect(error.code).toBe('MODEL_OUTPUT_UNSUPPORTED');
  });
});

describe('when the CUDA execution provider is requested', () => {
  it('should run on CUDA, or fall back to CPU with a warning that says why', async () => {
    const model = await withSyntheticModel('tiny');
    const warnings: string[] = [];
    const pool = await InferencePool.open({ modelDir: model.dir, threads: 1, executionProvider: 'cuda', onWarning: (m) => warnings.push(m) });
    try {
      if (pool.executionProvider === 'cpu') {
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/CUDA execution provider unavailable.*using CPU/);
      } else {
        expect(warnings).toEqual([]);
      }
      expect((await pool.score('q', ['d', 'e'])).scores).toHaveLength(2);
    } finally {
      await pool.close();
      await model.cleanup();
    }
  });
});
