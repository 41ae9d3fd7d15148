import * as ort from 'onnxruntime-node';

/**
 * Runs rows of token ids as one right-padded batch, the way a serving runtime does, and returns one
 * logit per row. `maskPadding: false` marks the padding as real tokens, to show the mask matters.
 */
export async function scoreRows(
  session: ort.InferenceSession,
  rows: readonly (readonly number[])[],
  { maskPadding = true }: { maskPadding?: boolean } = {},
): Promise<{ dims: readonly number[]; logits: number[] }> {
  const width = Math.max(...rows.map((row) => row.length));
  const ids = new BigInt64Array(rows.length * width);
  const mask = new BigInt64Array(rows.length * width);
  const types = new BigInt64Array(rows.length * width);
  rows.forEach((row, r) => {
    for (let c = 0; c < width; c++) {
      const real = c < row.length;
      ids[r * width + c] = BigInt(real ? row[c] : 0);
      mask[r * width + c] = real || !maskPadding ? 1n : 0n;
      // Second half of each row plays the passage (segment 1), as in a query/passage pair.
      types[r * width + c] = real && c >= row.length / 2 ? 1n : 0n;
    }
  });
  const shape = [rows.length, width];
  const output = await session.run({
    input_ids: new ort.Tensor('int64', ids, shape),
    attention_mask: new ort.Tensor('int64', mask, shape),
    token_type_ids: new ort.Tensor('int64', types, shape),
  });
  const logits = output.logits;
  return { dims: logits.dims, logits: Array.from(logits.data as Float32Array) };
}
