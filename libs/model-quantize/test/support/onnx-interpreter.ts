import type { DecodedModel, DecodedNode, DecodedTensor } from './onnx-decode.js';

/*
 * A test-only ONNX interpreter in plain JS for the ops of the synthetic BERT graphs, including the
 * dynamic quantization ones: DynamicQuantizeLinear and MatMulInteger are done by hand, following
 * the ONNX operator spec, with float32 rounding after each float op as onnxruntime stores results.
 */

export interface Tensor {
  dims: number[];
  data: Float64Array;
}

const f32 = Math.fround;
const size = (dims: readonly number[]): number => dims.reduce((n, d) => n * d, 1);
const strides = (dims: readonly number[]): number[] => dims.map((_, i) => size(dims.slice(i + 1)));
const tensor = (dims: number[], data: Float64Array = new Float64Array(size(dims))): Tensor => ({ dims, data });

function fromDecoded(decoded: DecodedTensor): Tensor {
  return tensor([...decoded.dims], Float64Array.from(decoded.data as ArrayLike<number | bigint>, (v) => Number(v)));
}

/** Numpy broadcasting of two tensors through `op`. */
function broadcast(a: Tensor, b: Tensor, op: (x: number, y: number) => number): Tensor {
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (dims: number[]): number[] => [...Array(rank - dims.length).fill(1), ...dims];
  const [ad, bd] = [pad(a.dims), pad(b.dims)];
  const dims = ad.map((d, i) => Math.max(d, bd[i]!));
  const [as, bs, os] = [strides(ad), strides(bd), strides(dims)];
  const out = tensor(dims);
  for (let index = 0; index < out.data.length; index++) {
    let ai = 0;
    let bi = 0;
    for (let axis = 0; axis < rank; axis++) {
      const coordinate = Math.floor(index / os[axis]!) % dims[axis]!;
      if (ad[axis] !== 1) ai += coordinate * as[axis]!;
      if (bd[axis] !== 1) bi += coordinate * bs[axis]!;
    }
    out.data[index] = op(a.data[ai]!, b.data[bi]!);
  }
  return out;
}

const unary = (x: Tensor, op: (v: number) => number): Tensor => tensor([...x.dims], x.data.map(op));

/** [..., M, K] x [..., K, N] with the leading dims broadcast; `product` accumulates one entry. */
function matmul(a: Tensor, b: Tensor, product: (ai: number, bi: number, k: number, bStride: number) => number): Tensor {
  const [m, k] = a.dims.slice(-2) as [number, number];
  const n = b.dims.at(-1)!;
  const aBatch = a.dims.slice(0, -2);
  const bBatch = b.dims.slice(0, -2);
  const batch = aBatch.length >= bBatch.length ? aBatch : bBatch;
  const out = tensor([...batch, m, n]);
  const batches = size(batch);
  for (let p = 0; p < batches; p++) {
    const aBase = (size(aBatch) === 1 ? 0 : p) * m * k;
    const bBase = (size(bBatch) === 1 ? 0 : p) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) out.data[p * m * n + i * n + j] = product(aBase + i * k, bBase + j, k, n);
    }
  }
  return out;
}

function transpose(x: Tensor, perm: number[]): Tensor {
  const dims = perm.map((p) => x.dims[p]!);
  const [xs, os] = [strides(x.dims), strides(dims)];
  const out = tensor(dims);
  for (let index = 0; index < out.data.length; index++) {
    let source = 0;
    for (let axis = 0; axis < dims.length; axis++) source += (Math.floor(index / os[axis]!) % dims[axis]!) * xs[perm[axis]!]!;
    out.data[index] = x.data[source]!;
  }
  return out;
}

/** Via Numerical Recipes' erfc Chebyshev fit: fractional error below 1.2e-7, under float32's. */
function erf(x: number): number {
  const sign = Math.sign(x);
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y =
    t *
    Math.exp(
      -x * x - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return sign * (1 - y);
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function lastAxis(x: Tensor, op: (row: Float64Array) => Float64Array): Tensor {
  const width = x.dims.at(-1)!;
  const out = tensor([...x.dims]);
  for (let start = 0; start < x.data.length; start += width) out.data.set(op(x.data.subarray(start, start + width)), start);
  return out;
}

type Kernel = (inputs: Tensor[], node: DecodedNode) => Tensor[];

const KERNELS: Record<string, Kernel> = {
  Constant: (_, node) => [fromDecoded(node.attributes.value!.t!)],
  Add: ([a, b]) => [broadcast(a!, b!, (x, y) => f32(x + y))],
  Sub: ([a, b]) => [broadcast(a!, b!, (x, y) => f32(x - y))],
  Mul: ([a, b]) => [broadcast(a!, b!, (x, y) => f32(x * y))],
  Div: ([a, b]) => [broadcast(a!, b!, (x, y) => f32(x / y))],
  Erf: ([x]) => [unary(x!, (v) => f32(erf(v)))],
  Tanh: ([x]) => [unary(x!, (v) => f32(Math.tanh(v)))],
  Cast: ([x]) => [unary(x!, f32)],
  Shape: ([x], node) => {
    const dims = x!.dims.slice(node.attributes.start?.i ?? 0, node.attributes.end?.i ?? x!.dims.length);
    return [tensor([dims.length], Float64Array.from(dims))];
  },
  Slice: ([x, starts, ends, axes]) => {
    // Only what the graphs use: one axis, 0, of a 2-D table.
    if (axes!.data[0] !== 0 || x!.dims.length !== 2) throw new Error('Slice: only axis 0 of a matrix');
    const [from, to] = [starts!.data[0]!, Math.min(ends!.data[0]!, x!.dims[0]!)];
    return [tensor([to - from, x!.dims[1]!], x!.data.slice(from * x!.dims[1]!, to * x!.dims[1]!))];
  },
  Unsqueeze: ([x, axes]) => {
    const dims = [...x!.dims];
    for (const axis of [...axes!.data].sort((p, q) => p - q)) dims.splice(axis, 0, 1);
    return [tensor(dims, x!.data)];
  },
  Reshape: ([x, shape]) => [tensor([...shape!.data].map((d, i) => (d === 0 ? x!.dims[i]! : d)), x!.data)],
  Transpose: ([x], node) => [transpose(x!, node.attributes.perm!.ints)],
  Gather: ([table, indices], node) => {
    const axis = node.attributes.axis?.i ?? 0;
    if (axis === 0) {
      const width = size(table!.dims.slice(1));
      const out = tensor([...indices!.dims, ...table!.dims.slice(1)]);
      indices!.data.forEach((row, i) => out.data.set(table!.data.subarray(row * width, (row + 1) * width), i * width));
      return [out];
    }
    // axis 1 with a scalar index: [B, S, H] -> [B, H] (the pooler's [CLS]).
    const [b, s, h] = table!.dims as [number, number, number];
    const out = tensor([b, h]);
    for (let i = 0; i < b; i++) out.data.set(table!.data.subarray((i * s + indices!.data[0]!) * h, (i * s + indices!.data[0]! + 1) * h), i * h);
    return [out];
  },
  LayerNormalization: ([x, scale, bias], node) => [
    lastAxis(x!, (row) => {
      const mean = row.reduce((s, v) => s + v, 0) / row.length;
      const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
      const denominator = Math.sqrt(variance + (node.attributes.epsilon?.f ?? 1e-5));
      return row.map((v, i) => f32(((v - mean) / denominator) * scale!.data[i]! + bias!.data[i]!));
    }),
  ],
  Softmax: ([x]) => [
    lastAxis(x!, (row) => {
      const max = Math.max(...row);
      const exps = row.map((v) => Math.exp(v - max));
      const sum = exps.reduce((s, v) => s + v, 0);
      return exps.map((v) => f32(v / sum));
    }),
  ],
  MatMul: ([a, b]) => [
    matmul(a!, b!, (ai, bi, k, stride) => {
      let sum = 0;
      for (let t = 0; t < k; t++) sum += a!.data[ai + t]! * b!.data[bi + t * stride]!;
      return f32(sum);
    }),
  ],
  // ONNX spec: range widened to include 0, scale = range / 255, zero point = round(-min / scale).
  DynamicQuantizeLinear: ([x]) => {
    const min = x!.data.reduce((m, v) => Math.min(m, v), 0);
    const max = x!.data.reduce((m, v) => Math.max(m, v), 0);
    const scale = f32((max - min) / 255);
    const zeroPoint = Math.max(0, Math.min(255, roundHalfEven(-min / scale)));
    const quantized = unary(x!, (v) => Math.max(0, Math.min(255, roundHalfEven(v / scale) + zeroPoint)));
    return [quantized, tensor([], Float64Array.of(scale)), tensor([], Float64Array.of(zeroPoint))];
  },
  // Exact integer products; b's zero point is per column (length N) or one for all.
  MatMulInteger: ([a, b, aZero, bZero]) => [
    matmul(a!, b!, (ai, bi, k, stride) => {
      const column = bi % stride;
      const bz = bZero!.data.length === 1 ? bZero!.data[0]! : bZero!.data[column]!;
      let sum = 0;
      for (let t = 0; t < k; t++) sum += (a!.data[ai + t]! - aZero!.data[0]!) * (b!.data[bi + t * stride]! - bz);
      return sum;
    }),
  ],
};

/** Runs the whole graph on `feeds` and returns its first output. */
export function interpret(model: DecodedModel, feeds: Record<string, Tensor>): Tensor {
  const values = new Map<string, Tensor>(Object.entries(feeds));
  for (const [name, initializer] of model.initializers) values.set(name, fromDecoded(initializer));
  for (const node of model.nodes) {
    const kernel = KERNELS[node.opType];
    if (!kernel) throw new Error(`interpreter has no ${node.opType}`);
    const outputs = kernel(node.inputs.map((name) => values.get(name)!), node);
    node.outputs.forEach((name, i) => values.set(name, outputs[i]!));
  }
  return values.get(model.outputs[0]!)!;
}

export { tensor };
