/*
 * The int8 weights the tests expect, computed here with code of their own: symmetric per-column
 * int8 (zero point 0, range [-127, 127]), scale = max |w| of the column / 127 as float32, values
 * rounded half to even. The library's output must equal this bit for bit.
 */

export interface ReferenceWeight {
  values: Int8Array;
  scales: Float32Array;
  zeroPoints: Int8Array;
}

function nearestEven(x: number): number {
  const rounded = Math.round(x);
  // Math.round sends halves up; a half between two integers goes to the even one instead.
  return Math.abs(x % 1) === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

/** `weights` is row-major [inputs, outputs]; one scale per output column. */
export function referenceInt8(weights: Float32Array, inputs: number, outputs: number): ReferenceWeight {
  const scales = new Float32Array(outputs);
  for (let column = 0; column < outputs; column++) {
    let largest = 0;
    for (let row = 0; row < inputs; row++) largest = Math.max(largest, Math.abs(weights[row * outputs + column]!));
    scales[column] = largest === 0 ? 1 : largest / 127;
  }
  const values = new Int8Array(weights.length);
  weights.forEach((weight, index) => {
    values[index] = Math.max(-127, Math.min(127, nearestEven(weight / scales[index % outputs]!)));
  });
  return { values, scales, zeroPoints: new Int8Array(outputs) };
}
