import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferencePool, ModelRuntimeError, PairEncoder } from '@rerank-pool/model-runtime';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { pairEncoderOf, withSyntheticModel } from './support/tiny-model.js';

/**
 * TEI's `truncation_direction` (the `tokenizers` crate's TruncationDirection): Right keeps a
 * text's beginning, Left its end; the lengths kept are the longest_first ones either way.
 */
describe('when a pair is truncated from the left', () => {
  let model: Awaited<ReturnType<typeof withSyntheticModel>>;
  let encoder: PairEncoder;
  const rng = createRng(11);
  const longQuery = syntheticText(rng, 400);
  const tail = syntheticText(rng, 900);
  // Two documents whose beginnings differ and whose last 900 words are the same.
  const docA = `${syntheticText(rng, 300)} ${tail}`;
  const docB = `${syntheticText(rng, 300)} ${tail}`;
  const shortQuery = 'what is a reranker';

  beforeAll(async () => {
    model = await withSyntheticModel('tiny');
    encoder = pairEncoderOf(model.dir, 512);
  });
  afterAll(() => model?.cleanup());

  it("should keep the end of each side, with the same lengths as from the right", () => {
    const q = encoder.tokenize(longQuery);
    const d = encoder.tokenize(docA);
    const [left] = encoder.encode(longQuery, [docA], { maxLength: 128, truncationDirection: 'left' });
    const [right] = encoder.encode(longQuery, [docA], { maxLength: 128, truncationDirection: 'right' });
    // 125 tokens of text: 62 from the query, 63 from the longer document, as longest_first splits them.
    expect(left!.ids).toHaveLength(128);
    expect(left!.truncated).toBe(true);
    expect(left!.ids.slice(1, 63)).toEqual(q.slice(-62));
    expect(left!.ids.slice(64, 127)).toEqual(d.slice(-63));
    expect(left!.typeIds).toEqual(right!.typeIds);
    expect(right!.ids.slice(64, 127)).toEqual(d.slice(0, 63));
  });

  it('should leave the right direction exactly as without the option', () => {
    const docs = [docA, docB, 'a short passage'];
    expect(encoder.encode(shortQuery, docs, { truncationDirection: 'right' })).toEqual(encoder.encode(shortQuery, docs));
    expect(encoder.encode(longQuery, docs, { maxLength: 100, truncationDirection: 'right' })).toEqual(encoder.encode(longQuery, docs, { maxLength: 100 }));
  });

  it('should leave a pair that fits untouched whatever the direction', () => {
    expect(encoder.encode(shortQuery, ['a short passage'], { truncationDirection: 'left' })).toEqual(encoder.encode(shortQuery, ['a short passage']));
  });

  it('should refuse a direction other than left or right', () => {
    expect(() => encoder.encode(shortQuery, ['x'], { truncationDirection: 'sideways' as 'left' })).toThrow(ModelRuntimeError);
  });

  it('should score two documents with the same end the same from the left, and differently from the right', async () => {
    const pool = await InferencePool.open({ modelDir: model.dir, threads: 1 });
    try {
      const left = await pool.score(shortQuery, [docA, docB], { truncationDirection: 'left' });
      const right = await pool.score(shortQuery, [docA, docB], { truncationDirection: 'right' });
      const unset = await pool.score(shortQuery, [docA, docB]);
      expect(left.truncated).toEqual([0, 1]);
      // From the left both keep the query and the same last tokens of `tail`: one input, one score.
      expect(left.logits[0]).toBe(left.logits[1]);
      expect(Math.abs(right.logits[0]! - right.logits[1]!)).toBeGreaterThan(1e-4);
      expect(Math.abs(left.logits[0]! - right.logits[0]!)).toBeGreaterThan(1e-4);
      // Right is today's behaviour, bit for bit.
      expect(right.logits).toEqual(unset.logits);
      expect(right.scores).toEqual(unset.scores);
    } finally {
      await pool.close();
    }
  });
});
