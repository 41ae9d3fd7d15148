import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferencePool, gather, pairLength, relevanceScore, type PackedPairs } from '@rerank-pool/model-runtime';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { withSyntheticModel } from './support/tiny-model.js';

describe('when pairs share batches with other pairs', () => {
  let model: Awaited<ReturnType<typeof withSyntheticModel>>;
  let pool: InferencePool;
  let encoded: PackedPairs;
  const alone: number[] = [];
  const rng = createRng(99);
  const documents = Array.from({ length: 60 }, () => syntheticText(rng, 1 + Math.floor(rng() * 120)));

  beforeAll(async () => {
    model = await withSyntheticModel('tiny');
    pool = await InferencePool.open({ modelDir: model.dir, threads: 2, maxBatchTokens: 2048, maxBatchRows: 32 });
    encoded = await pool.encode('how do cross encoders rank passages', documents);
    for (let i = 0; i < encoded.count; i++) {
      const logits = await pool.infer(gather([{ source: encoded, index: i }]));
      alone.push(relevanceScore(logits, 1, 0));
    }
  });

  afterAll(async () => {
    await pool?.close();
    await model?.cleanup();
  });

  it('should encode pairs of many different lengths', () => {
    const lengths = new Set(Array.from({ length: encoded.count }, (_, i) => pairLength(encoded, i)));
    expect(lengths.size).toBeGreaterThan(20);
  });

  it('should score a pair the same alone and inside random padded batches', async () => {
    for (let trial = 0; trial < 30; trial++) {
      const size = 2 + Math.floor(rng() * 20);
      const rows = Array.from({ length: size }, () => Math.floor(rng() * encoded.count));
      const logits = await pool.infer(gather(rows.map((index) => ({ source: encoded, index }))));
      rows.forEach((index, row) => {
        expect(Math.abs(relevanceScore(logits, 1, row) - alone[index]!)).toBeLessThanOrEqual(1e-4);
      });
    }
  });

  it('should put every score at its own input index through score()', async () => {
    const result = await pool.score('how do cross encoders rank passages', documents);
    expect(result.scores).toHaveLength(documents.length);
    result.scores.forEach((score, i) => expect(Math.abs(score - alone[i]!)).toBeLessThanOrEqual(1e-4));
    // The scores differ from pair to pair, so a mix-up of indices could not pass unnoticed.
    expect(new Set(alone.map((s) => s.toFixed(5))).size).toBeGreaterThan(documents.length / 2);

    const order = documents.map((_, i) => i).sort(() => rng() - 0.5);
    const shuffled = await pool.score('how do cross encoders rank passages', order.map((i) => documents[i]!));
    order.forEach((original, position) => expect(Math.abs(shuffled.scores[position]! - alone[original]!)).toBeLessThanOrEqual(1e-4));
  });
});
