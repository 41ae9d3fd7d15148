import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, encodeNode, encodeTensor, ProtoWriter, type NodeSpec } from '@rerank-pool/model-synth';
import { quantizeModel, type QuantizeResult } from '../src/index.js';
import { referenceInt8 } from './support/int8-reference.js';
import { decodeModel } from './support/onnx-decode.js';
import { makeTempDir } from './support/temp-dir.js';

/*
 * A graph shaped like other exporters' output rather than the synthesizer's: a Gemm with its
 * weight stored transposed (transB = 1) and a bias, an old opset (9), a second opset domain,
 * model doc string and metadata, and a weight shared by two MatMuls.
 */

const floats = (values: Float32Array): Uint8Array => new Uint8Array(values.buffer);

function randomMatrix(rng: () => number, rows: number, cols: number): Float32Array {
  return Float32Array.from({ length: rows * cols }, () => rng() * 2 - 1);
}

function valueInfo(name: string, dims: (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const dim of dims) shape.message(1, typeof dim === 'number' ? new ProtoWriter().varint(1, dim) : new ProtoWriter().string(2, dim));
  const tensorType = new ProtoWriter().varint(1, 1).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

const METADATA = new ProtoWriter().string(1, 'exported_by').string(2, 'a test').finish();
const DOC = 'a graph shaped like a Hub export';

function exportedModel(weights: Record<string, Float32Array>): Uint8Array {
  const node = (spec: Omit<NodeSpec, 'attributes'> & Partial<Pick<NodeSpec, 'attributes'>>): ProtoWriter => encodeNode({ attributes: [], ...spec });
  const graph = new ProtoWriter()
    .message(1, node({ name: 'dense', opType: 'Gemm', inputs: ['x', 'dense.weight', 'dense.bias'], outputs: ['dense_out'], attributes: [{ name: 'transB', kind: 'int', value: 1 }] }))
    .message(1, node({ name: 'act', opType: 'Tanh', inputs: ['dense_out'], outputs: ['act_out'] }))
    .message(1, node({ name: 'proj', opType: 'MatMul', inputs: ['act_out', 'proj.weight'], outputs: ['proj_out'] }))
    .message(1, node({ name: 'tied_1', opType: 'MatMul', inputs: ['proj_out', 'tied.weight'], outputs: ['tied_1_out'] }))
    .message(1, node({ name: 'tied_2', opType: 'MatMul', inputs: ['tied_1_out', 'tied.weight'], outputs: ['y'] }))
    .string(2, 'exported');
  for (const [name, dims] of [['dense.weight', [6, 8]], ['dense.bias', [6]], ['proj.weight', [6, 4]], ['tied.weight', [4, 4]]] as const) {
    graph.message(5, encodeTensor({ name, dataType: 'float', dims, rawData: floats(weights[name]!) }));
  }
  graph.message(11, valueInfo('x', ['batch', 8])).message(12, valueInfo('y', ['batch', 4]));
  const opset = (domain: string, version: number): ProtoWriter => new ProtoWriter().string(1, domain).varint(2, version);
  const model = new ProtoWriter()
    .varint(1, 7)
    .string(2, 'some-exporter')
    .string(6, DOC)
    .message(7, graph)
    .message(8, opset('', 9))
    .message(8, opset('com.microsoft', 1))
    .message(14, new ProtoWriter().raw(Buffer.concat(METADATA)));
  return Buffer.concat(model.finish());
}

describe('when a Hub-style export with Gemm, an old opset and metadata is quantized', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let weights: Record<string, Float32Array>;
  let source: Uint8Array;
  let written: Uint8Array;
  let result: QuantizeResult;

  beforeAll(async () => {
    temp = await makeTempDir();
    const rng = createRng(5);
    weights = {
      'dense.weight': randomMatrix(rng, 6, 8),
      'dense.bias': randomMatrix(rng, 1, 6),
      'proj.weight': randomMatrix(rng, 6, 4),
      'tied.weight': randomMatrix(rng, 4, 4),
    };
    source = exportedModel(weights);
    await mkdir(path.join(temp.dir, 'onnx'));
    await writeFile(path.join(temp.dir, 'onnx', 'model.onnx'), source);
    result = await quantizeModel({ modelDir: temp.dir });
    written = await readFile(result.onnxPath);
  });

  afterAll(async () => temp?.remove());

  it('should quantize the Gemm and the single-use MatMul and leave the shared weight float32, saying why', () => {
    expect(result.quantizedNodes).toBe(2);
    expect(result.opsetRaised).toEqual({ from: 9, to: 11 });
    expect(result.skipped).toEqual([
      { node: 'tied_1', reason: 'its weight is used by several nodes' },
      { node: 'tied_2', reason: 'its weight is used by several nodes' },
    ]);
    const decoded = decodeModel(written);
    expect(decoded.initializers.get('tied.weight')!.data).toEqual(weights['tied.weight']);
    expect(decoded.nodes.filter((node) => node.opType === 'MatMul').map((node) => node.inputs[1])).toEqual(['tied.weight', 'tied.weight']);
  });

  it("should store a transB Gemm's weight transposed to [K, N] as the int8 reference computes it", () => {
    const decoded = decodeModel(written);
    const matMulInteger = decoded.nodes.find((node) => node.opType === 'MatMulInteger')!;
    const transposed = new Float32Array(8 * 6);
    for (let n = 0; n < 6; n++) for (let k = 0; k < 8; k++) transposed[k * 6 + n] = weights['dense.weight']![n * 8 + k]!;
    const stored = decoded.initializers.get(matMulInteger.inputs[1]!)!;
    expect(stored.dims).toEqual([8, 6]);
    expect(stored.data).toEqual(referenceInt8(transposed, 8, 6).values);
    // The bias is added after the int8 product, as Gemm's C was.
    expect(decoded.nodes.find((node) => node.inputs.includes('dense.bias'))).toMatchObject({ opType: 'Add', outputs: ['dense_out'] });
  });

  it('should raise opset 9 to 11 and copy the other domain, doc string and metadata through byte for byte', () => {
    const decoded = decodeModel(written);
    expect(decoded.opsets).toEqual([
      { domain: '', version: 11 },
      { domain: 'com.microsoft', version: 1 },
    ]);
    const contains = (needle: Uint8Array): boolean => Buffer.from(written).includes(Buffer.from(needle));
    expect(contains(Buffer.concat(METADATA))).toBe(true);
    expect(contains(Buffer.from(DOC))).toBe(true);
    expect(contains(Buffer.from('some-exporter'))).toBe(true);
  });

  it('should load in onnxruntime and compute what the float32 graph does, to int8 precision', async () => {
    const rng = createRng(9);
    const x = new ort.Tensor('float32', randomMatrix(rng, 3, 8), [3, 8]);
    const fp32 = await ort.InferenceSession.create(source);
    const int8 = await ort.InferenceSession.create(written);
    const expected = (await fp32.run({ x })).y!.data as Float32Array;
    const actual = (await int8.run({ x })).y!.data as Float32Array;
    const magnitude = Math.max(...expected.map(Math.abs));
    expect(actual).toHaveLength(12);
    // 8-bit weights and activations through two quantized layers: within 3% of the output's range.
    actual.forEach((value, i) => expect(Math.abs(value - expected[i]!)).toBeLessThan(0.03 * magnitude));
    await fp32.release();
    await int8.release();
  });
});
