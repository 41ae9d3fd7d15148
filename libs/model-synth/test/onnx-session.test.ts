import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, synthesizeModel, type SynthPresetName } from '@rerank-pool/model-synth';
import { scoreRows } from './support/score-rows.js';
import { makeTempDir } from './support/temp-dir.js';

const TOLERANCE = 1e-4;

function randomRow(rng: () => number, length: number, vocabSize: number): number[] {
  // [CLS] ... [SEP], body ids above the special range.
  const body = Array.from({ length: length - 2 }, () => 1000 + Math.floor(rng() * (vocabSize - 1000)));
  return [101, ...body, 102];
}

describe.each<SynthPresetName>(['tiny', 'tinybert-l2'])('when onnxruntime loads the %s model', (preset) => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let session: ort.InferenceSession;
  let rows: number[][];

  beforeAll(async () => {
    temp = await makeTempDir();
    const model = await synthesizeModel({ preset, outDir: temp.dir });
    session = await ort.InferenceSession.create(path.join(model.dir, 'model.onnx'));
    const rng = createRng(7);
    rows = [randomRow(rng, 9, model.shape.vocabSize), randomRow(rng, 23, model.shape.vocabSize), randomRow(rng, 4, model.shape.vocabSize)];
  });

  afterAll(async () => {
    await session?.release();
    await temp?.remove();
  });

  it('should declare the three BERT inputs and the logits output', () => {
    expect([...session.inputNames].sort()).toEqual(['attention_mask', 'input_ids', 'token_type_ids']);
    expect(session.outputNames).toEqual(['logits']);
  });

  it('should give finite logits of shape [3, 1] for a padded batch of different lengths', async () => {
    const { dims, logits } = await scoreRows(session, rows);
    expect(dims).toEqual([3, 1]);
    expect(logits.every(Number.isFinite)).toBe(true);
    // Distinct inputs get distinct scores: the weights are not degenerate.
    expect(new Set(logits.map((logit) => logit.toFixed(4))).size).toBe(3);
  });

  it('should give a row the same logit alone as padded inside a batch', async () => {
    const { logits: batched } = await scoreRows(session, rows);
    for (const [index, row] of rows.entries()) {
      const { logits: alone } = await scoreRows(session, [row]);
      expect(Math.abs(alone[0] - batched[index])).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('should change the logit of a short row when its padding is not masked', async () => {
    // Control for the test above: without the mask bias, padding leaks into attention.
    const { logits: masked } = await scoreRows(session, rows);
    const { logits: unmasked } = await scoreRows(session, rows, { maskPadding: false });
    expect(Math.abs(unmasked[2] - masked[2])).toBeGreaterThan(100 * TOLERANCE);
  });
});
