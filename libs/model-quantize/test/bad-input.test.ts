import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNode, encodeTensor, ProtoWriter, synthesizeModel } from '@rerank-pool/model-synth';
import { QuantizeError, quantizeModel, type QuantizeErrorCode } from '../src/index.js';
import { makeTempDir } from './support/temp-dir.js';

async function failure(promise: Promise<unknown>): Promise<QuantizeError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(QuantizeError);
  return error as QuantizeError;
}

describe('when quantizeModel is given something it cannot quantize', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  const dir = (name: string): string => path.join(temp.dir, name);

  beforeAll(async () => {
    temp = await makeTempDir();
    await mkdir(dir('empty'));
    await mkdir(dir('garbage'));
    await writeFile(path.join(dir('garbage'), 'model.onnx'), Buffer.from('this is not a protobuf \xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff'));
    await mkdir(dir('no-weights'));
    // A valid model with no MatMul at all: x -> Tanh -> y.
    const graph = new ProtoWriter().message(1, encodeNode({ name: 'tanh', opType: 'Tanh', inputs: ['x'], outputs: ['y'], attributes: [] })).string(2, 'g');
    const model = new ProtoWriter().varint(1, 8).message(7, graph).message(8, new ProtoWriter().string(1, '').varint(2, 17));
    await writeFile(path.join(dir('no-weights'), 'model.onnx'), Buffer.concat(model.finish()));
    await synthesizeModel({ preset: 'tiny', outDir: dir('tiny') });
    // Opset 9 with a Clip: opset 11 turned Clip's min/max attributes into inputs.
    await mkdir(dir('old-opset'));
    const clipGraph = new ProtoWriter()
      .message(1, encodeNode({ name: 'clip', opType: 'Clip', inputs: ['x'], outputs: ['c'], attributes: [{ name: 'max', kind: 'float', value: 6 }] }))
      .message(1, encodeNode({ name: 'dense', opType: 'MatMul', inputs: ['c', 'w'], outputs: ['y'], attributes: [] }))
      .message(5, encodeTensor({ name: 'w', dataType: 'float', dims: [2, 2], rawData: new Uint8Array(Float32Array.of(1, 2, 3, 4).buffer) }))
      .string(2, 'g');
    const oldModel = new ProtoWriter().varint(1, 4).message(7, clipGraph).message(8, new ProtoWriter().string(1, '').varint(2, 9));
    await writeFile(path.join(dir('old-opset'), 'model.onnx'), Buffer.concat(oldModel.finish()));
  });
  afterAll(async () => temp?.remove());

  it.each<[string, () => string, QuantizeErrorCode, RegExp]>([
    ['a directory that does not exist', () => dir('missing'), 'QUANTIZE_MODEL_DIR_MISSING', /missing does not exist/],
    ['a directory without model.onnx', () => dir('empty'), 'QUANTIZE_ONNX_MISSING', /model\.onnx and onnx\/model\.onnx/],
    ['a model.onnx that is not protobuf', () => dir('garbage'), 'QUANTIZE_ONNX_MALFORMED', /not a valid ONNX protobuf/],
    ['a model without any MatMul weight', () => dir('no-weights'), 'QUANTIZE_NOTHING_TO_QUANTIZE', /no MatMul or Gemm/],
    ['an opset 9 graph whose Clip opset 11 redefines', () => dir('old-opset'), 'QUANTIZE_ONNX_UNSUPPORTED', /opset 9.*Clip/],
  ])('should refuse %s with a code', async (_, modelDir, code, message) => {
    const error = await failure(quantizeModel({ modelDir: modelDir() }));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('should refuse a variant that is not a file name part', async () => {
    const error = await failure(quantizeModel({ modelDir: dir('tiny'), variant: '../model' }));
    expect(error.code).toBe('QUANTIZE_INVALID_OPTION');
    expect(error.message).toContain('../model');
  });
});
