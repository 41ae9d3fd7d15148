import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countBertParameters, createRng, synthesizeModel, SYNTH_PRESETS } from '@rerank-pool/model-synth';
import { quantizeModel, type QuantizeResult } from '../src/index.js';
import { decodeModel, type DecodedModel, type DecodedNode } from './support/onnx-decode.js';
import { interpret, tensor, type Tensor } from './support/onnx-interpreter.js';
import { referenceInt8 } from './support/int8-reference.js';
import { makeTempDir } from './support/temp-dir.js';

/*
 * The tolerance between onnxruntime's logits on the quantized file and the plain-JS int8
 * reference: 5e-4 on logits of magnitude ~1. Integer products are exact on both sides, so they can
 * differ only through float32 summation order in the float ops around them (measured here: no
 * difference at all in float32). The float32 model is ~6e-3 away from the int8 reference on the
 * same rows (asserted below to be over 5x the tolerance), so the tolerance does tell int8 from float32.
 */
const INT8_TOLERANCE = 5e-4;
/** The interpreter against onnxruntime on the float32 file: both float32, only summation order differs. */
const FP32_TOLERANCE = 1e-4;

interface QuantizedLinear {
  /** The float32 model's weight initializer. */
  weight: string;
  matMulInteger: DecodedNode;
  /** The weight's per-column scale initializer. */
  scale: string;
}

/** Follows MatMulInteger -> Cast -> Mul(., activation scale x weight scale) back from each float32 MatMul's output. */
function quantizedLinears(fp32: DecodedModel, int8: DecodedModel): QuantizedLinear[] {
  const producer = new Map(int8.nodes.flatMap((node) => node.outputs.map((output) => [output, node] as const)));
  return fp32.nodes
    .filter((node) => node.opType === 'MatMul' && fp32.initializers.has(node.inputs[1]!))
    .map((node) => {
      const mul = producer.get(node.outputs[0]!)!;
      expect(mul.opType).toBe('Mul');
      const cast = producer.get(mul.inputs[0]!)!;
      const scales = producer.get(mul.inputs[1]!)!;
      const matMulInteger = producer.get(cast.inputs[0]!)!;
      expect([cast.opType, scales.opType, matMulInteger.opType]).toEqual(['Cast', 'Mul', 'MatMulInteger']);
      expect(producer.get(scales.inputs[0]!)!.opType).toBe('DynamicQuantizeLinear');
      return { weight: node.inputs[1]!, matMulInteger, scale: scales.inputs[1]! };
    });
}

function elementCount(model: DecodedModel, skip: ReadonlySet<string> = new Set()): number {
  return [...model.initializers.values()].filter((t) => !skip.has(t.name)).reduce((sum, t) => sum + t.dims.reduce((n, d) => n * d, 1), 0);
}

describe('when the tiny model is quantized to int8', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let result: QuantizeResult;
  let fp32: DecodedModel;
  let int8: DecodedModel;
  let sessions: { fp32: ort.InferenceSession; int8: ort.InferenceSession };
  let feeds: Record<string, Tensor>;

  beforeAll(async () => {
    temp = await makeTempDir();
    const model = await synthesizeModel({ preset: 'tiny', outDir: temp.dir, seed: 3 });
    result = await quantizeModel({ modelDir: model.dir });
    fp32 = decodeModel(await readFile(path.join(model.dir, 'model.onnx')));
    int8 = decodeModel(await readFile(result.onnxPath));
    sessions = {
      fp32: await ort.InferenceSession.create(path.join(model.dir, 'model.onnx')),
      int8: await ort.InferenceSession.create(result.onnxPath),
    };
    // Four rows of different lengths, padded to 20: [CLS] query [SEP] document [SEP].
    const rng = createRng(11);
    const lengths = [20, 13, 7, 17];
    const width = 20;
    const ids = lengths.flatMap((length) =>
      Array.from({ length: width }, (_, i) => (i >= length ? 0 : i === 0 ? 2 : i === length - 1 ? 3 : 5 + Math.floor(rng() * (SYNTH_PRESETS.tiny.vocabSize - 5)))),
    );
    const mask = lengths.flatMap((length) => Array.from({ length: width }, (_, i) => (i < length ? 1 : 0)));
    const types = lengths.flatMap((length) => Array.from({ length: width }, (_, i) => (i < length && i > length / 2 ? 1 : 0)));
    const dims = [lengths.length, width];
    feeds = {
      input_ids: tensor(dims, Float64Array.from(ids)),
      attention_mask: tensor(dims, Float64Array.from(mask)),
      token_type_ids: tensor(dims, Float64Array.from(types)),
    };
  });

  afterAll(async () => {
    await sessions?.fp32.release();
    await sessions?.int8.release();
    await temp?.remove();
  });

  async function ortLogits(session: ort.InferenceSession): Promise<number[]> {
    const input = Object.fromEntries(
      Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor('int64', BigInt64Array.from(t.data, (v) => BigInt(v)), t.dims)]),
    );
    return Array.from((await session.run(input)).logits!.data as Float32Array);
  }

  it('should name the file in the Hub naming for int8 weights and report every dense layer', () => {
    expect(path.relative(temp.dir, result.onnxPath)).toBe(path.join('onnx', 'model_quantized.onnx'));
    expect(result.variant).toBe('quantized');
    // Per layer: query, key, value, attention output, intermediate, output; then pooler and classifier.
    expect(result.quantizedNodes).toBe(SYNTH_PRESETS.tiny.numLayers * 6 + 2);
    expect(result.skipped).toEqual([]);
  });

  it('should store every weight as an independent int8 reference computes it from the float32 initializer, bit for bit', () => {
    const linears = quantizedLinears(fp32, int8);
    expect(linears).toHaveLength(result.quantizedNodes);
    for (const { weight, matMulInteger, scale } of linears) {
      const source = fp32.initializers.get(weight)!;
      const [rows, cols] = source.dims as [number, number];
      const expected = referenceInt8(source.data as Float32Array, rows, cols);
      const stored = int8.initializers.get(matMulInteger.inputs[1]!)!;
      expect(stored.dataType, weight).toBe(3); // INT8
      expect(stored.dims).toEqual([rows, cols]);
      expect(stored.data).toEqual(expected.values);
      expect(int8.initializers.get(scale)!.data).toEqual(expected.scales);
      expect(int8.initializers.get(matMulInteger.inputs[3]!)!.data).toEqual(expected.zeroPoints);
      // No float32 copy of a quantized weight stays behind.
      expect(int8.initializers.has(weight)).toBe(false);
    }
  });

  it('should keep embeddings, biases and LayerNorm weights float32 and byte-identical', () => {
    const quantized = new Set(quantizedLinears(fp32, int8).map((linear) => linear.weight));
    const kept = [...fp32.initializers.values()].filter((t) => !quantized.has(t.name));
    expect(kept.map((t) => t.name)).toContain('bert.embeddings.word_embeddings.weight');
    for (const t of kept) expect(int8.initializers.get(t.name)?.data, t.name).toEqual(t.data);
  });

  it('should have as many parameters as the float32 model: initializer elements, quantized weights as their int8 elements, scales and zero points not counted', () => {
    const linears = quantizedLinears(fp32, int8);
    const quantizationParameters = new Set(linears.flatMap((linear) => [linear.scale, linear.matMulInteger.inputs[3]!]));
    const expected = countBertParameters(SYNTH_PRESETS.tiny);
    expect(elementCount(fp32)).toBe(expected);
    expect(elementCount(int8, quantizationParameters)).toBe(expected);
    expect(result.parameters).toBe(expected);
  });

  it('should keep the synthesized opset 17, which already has DynamicQuantizeLinear and MatMulInteger', () => {
    expect(int8.opsets).toEqual(fp32.opsets);
    expect(int8.opsets.find((opset) => opset.domain === '')!.version).toBe(17);
    expect(result.opsetRaised).toBeUndefined();
  });

  it('should load in onnxruntime and score within the stated tolerance of the plain-JS int8 forward pass', async () => {
    const reference = Array.from(interpret(int8, feeds).data);
    const scored = await ortLogits(sessions.int8);
    expect(scored).toHaveLength(4);
    scored.forEach((logit, i) => expect(Math.abs(logit - reference[i]!), `row ${i}`).toBeLessThanOrEqual(INT8_TOLERANCE));
  });

  it('should tell int8 from float32: the float32 logits are further from the int8 reference than the tolerance', async () => {
    // The interpreter is checked on the float32 file first, so it is the ops, not the interpreter, under test.
    const fp32Reference = Array.from(interpret(fp32, feeds).data);
    const fp32Scored = await ortLogits(sessions.fp32);
    fp32Scored.forEach((logit, i) => expect(Math.abs(logit - fp32Reference[i]!), `row ${i}`).toBeLessThanOrEqual(FP32_TOLERANCE));
    const int8Reference = Array.from(interpret(int8, feeds).data);
    const gap = Math.max(...fp32Scored.map((logit, i) => Math.abs(logit - int8Reference[i]!)));
    expect(gap).toBeGreaterThan(5 * INT8_TOLERANCE);
  });
});
