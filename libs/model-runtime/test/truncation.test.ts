import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferencePool, PairEncoder, ModelRuntimeError, pairLength } from '@rerank-pool/model-runtime';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { pairEncoderOf, withSyntheticModel } from './support/tiny-model.js';

describe('when a query or document is longer than the model allows', () => {
  let model: Awaited<ReturnType<typeof withSyntheticModel>>;
  let encoder: PairEncoder;
  const rng = createRng(5);
  const longQuery = syntheticText(rng, 400);
  const longDoc = syntheticText(rng, 900);
  const shortQuery = 'what is a reranker';

  beforeAll(async () => {
    model = await withSyntheticModel('tiny');
    encoder = pairEncoderOf(model.dir, 512);
  });
  afterAll(() => model?.cleanup());

  it('should cut both sides as longest_first does, keeping each side a prefix', () => {
    const q = encoder.tokenize(longQuery);
    const d = encoder.tokenize(longDoc);
    expect(q.length).toBeGreaterThan(300);
    expect(d.length).toBeGreaterThan(600);
    const [pair] = encoder.encode(longQuery, [longDoc], { maxLength: 128 });
    // 128 - 3 special tokens = 125: both are long, so 62 from the query, 63 from the longer document.
    expect(pair!.ids).toHaveLength(128);
    expect(pair!.truncated).toBe(true);
    expect(pair!.ids.slice(1, 63)).toEqual(q.slice(0, 62));
    expect(pair!.ids.slice(64, 127)).toEqual(d.slice(0, 63));
    expect(pair!.typeIds.filter((t) => t === 0)).toHaveLength(64);
  });

  it('should cut only the document when the query is short', () => {
    const q = encoder.tokenize(shortQuery);
    const [pair] = encoder.encode(shortQuery, [longDoc], { maxLength: 64 });
    expect(pair!.ids).toHaveLength(64);
    expect(pair!.ids.slice(1, 1 + q.length)).toEqual(q);
  });

  it('should apply only_second and refuse a query that fills the budget', () => {
    const [pair] = encoder.encode(shortQuery, [longDoc], { maxLength: 64, truncation: 'only_second' });
    expect(pair!.ids).toHaveLength(64);
    expect(() => encoder.encode(longQuery, [longDoc], { maxLength: 64, truncation: 'only_second' })).toThrow(ModelRuntimeError);
  });

  it('should cut documents to max_tokens_per_doc before fitting the pair', () => {
    const d = encoder.tokenize(longDoc);
    const [pair] = encoder.encode(shortQuery, [longDoc], { maxTokensPerDoc: 10 });
    const q = encoder.tokenize(shortQuery);
    expect(pair!.ids).toHaveLength(q.length + 10 + 3);
    expect(pair!.ids.slice(q.length + 2, q.length + 12)).toEqual(d.slice(0, 10));
  });

  it('should leave a pair that fits untouched', () => {
    const [pair] = encoder.encode(shortQuery, ['a short passage'], {});
    expect(pair!.truncated).toBe(false);
    expect(pair!.ids[0]).toBe(101);
    expect(pair!.ids.filter((id) => id === 102)).toHaveLength(2);
  });

  it('should never feed the model more than max_length tokens, and still score', async () => {
    const pool = await InferencePool.open({ modelDir: model.dir, threads: 1 });
    try {
      expect(pool.model.maxLength).toBe(512);
      const encoded = await pool.encode(longQuery, [longDoc, 'short', longDoc + longDoc]);
      for (let i = 0; i < encoded.count; i++) expect(pairLength(encoded, i)).toBeLessThanOrEqual(512);
      const result = await pool.score(shortQuery, [longDoc, 'short']);
      expect(result.truncated).toEqual([0]);
      expect(result.scores.every(Number.isFinite)).toBe(true);
      await expect(pool.score(shortQuery, ['x'], { maxLength: 1024 })).rejects.toThrow(/exceeds the model's limit of 512/);
    } finally {
      await pool.close();
    }
  });
});
