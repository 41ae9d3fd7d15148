import type { WeightFormat } from './weight-format.js';

/** A [K, N] weight matrix as MatMulInteger takes it, with one scale and zero point per column or one in all. */
export interface QuantizedWeight {
  values: Int8Array | Uint8Array;
  /** Length N (per channel) or 1. */
  scales: Float32Array;
  zeroPoints: Int8Array | Uint8Array;
}

interface Range {
  min: number;
  max: number;
}

/** Round half to even, as onnxruntime's QuantizeLinear and numpy do. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export function quantRange(format: WeightFormat): Range {
  if (format.type === 'uint8') return { min: 0, max: format.reduceRange ? 127 : 255 };
  // Symmetric int8 drops -128 so that +x and -x quantize to opposite values.
  if (format.symmetric) return format.reduceRange ? { min: -63, max: 63 } : { min: -127, max: 127 };
  return format.reduceRange ? { min: -64, max: 63 } : { min: -128, max: 127 };
}

/** Scale and zero point mapping [min, max] of the real values (widened to include 0) onto the quantized range. */
export function scaleAndZeroPoint(real: Range, format: WeightFormat): { scale: number; zeroPoint: number } {
  const q = quantRange(format);
  const min = Math.min(real.min, 0);
  const max = Math.max(real.max, 0);
  if (format.symmetric) {
    const zeroPoint = format.type === 'uint8' ? (q.max + 1) / 2 : 0;
    const scale = Math.fround(Math.max(-min, max) / (q.max - zeroPoint));
    return { scale: scale > 0 ? scale : 1, zeroPoint };
  }
  // An all-zero column gets scale 1: any scale represents it exactly, and 0 would divide by zero.
  const scale = Math.fround((max - min) / (q.max - q.min)) || 1;
  const zeroPoint = Math.min(q.max, Math.max(q.min, roundHalfEven(q.min - min / scale)));
  return { scale, zeroPoint };
}

/** Quantizes a row-major [rows, cols] float32 matrix; channels are columns (MatMul's output dimension). */
export function quantizeWeight(weights: Float32Array, rows: number, cols: number, format: WeightFormat): QuantizedWeight {
  const channels = format.perChannel ? cols : 1;
  const ranges: Range[] = Array.from({ length: channels }, () => ({ min: Infinity, max: -Infinity }));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const range = ranges[format.perChannel ? c : 0]!;
      const value = weights[r * cols + c]!;
      if (value < range.min) range.min = value;
      if (value > range.max) range.max = value;
    }
  }
  const params = ranges.map((range) => scaleAndZeroPoint(range, format));
  const q = quantRange(format);
  const values = format.type === 'uint8' ? new Uint8Array(weights.length) : new Int8Array(weights.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const { scale, zeroPoint } = params[format.perChannel ? c : 0]!;
      const index = r * cols + c;
      values[index] = Math.min(q.max, Math.max(q.min, roundHalfEven(weights[index]! / scale) + zeroPoint));
    }
  }
  const zeroPoints = format.type === 'uint8' ? new Uint8Array(channels) : new Int8Array(channels);
  zeroPoints.set(params.map((param) => param.zeroPoint));
  return { values, scales: Float32Array.from(params, (param) => param.scale), zeroPoints };
}

/** [rows, cols] -> [cols, rows], for Gemm weights stored transposed (transB = 1). */
export function transpose(weights: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(weights.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = weights[r * cols + c]!;
  return out;
}
