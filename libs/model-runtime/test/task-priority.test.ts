import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferencePool } from '@rerank-pool/model-runtime';
import { withSyntheticModel } from './support/tiny-model.js';

/**
 * Issue 14 in the pool: tokenization and inference tasks wait for a thread in two lanes, so an
 * interactive request's tasks go before the batch work already waiting, on a real one-thread pool.
 */
describe('when interactive tasks are queued behind batch tasks on the pool', () => {
  let model: Awaited<ReturnType<typeof withSyntheticModel>>;
  let pool: InferencePool;
  const documents = Array.from({ length: 200 }, (_, i) => `batch line passage ${i} ${'lorem ipsum dolor '.repeat(20)}`);

  beforeAll(async () => {
    model = await withSyntheticModel('tiny', 9);
    pool = await InferencePool.open({ modelDir: model.dir, threads: 1 });
  });

  afterAll(async () => {
    await pool?.close();
    await model?.cleanup();
  });

  it('should run them before every batch task still waiting, and score the same', async () => {
    const finished: string[] = [];
    const batchWork = Array.from({ length: 12 }, (_, i) => pool.encode(`line ${i}`, documents, {}, 'batch').then(() => finished.push(`batch ${i}`)));
    // Queued last, behind 11 batch tasks still waiting (the first holds the thread).
    const probe = await pool.encode('probe', ['a short passage', 'another one'], {}, 'interactive');
    finished.push('interactive encode');
    const logits = await pool.infer(probe, 'interactive');
    finished.push('interactive infer');
    await Promise.all(batchWork);

    // At most the task holding the thread (and one the thread took as the probe was queued) ran first.
    expect(finished.indexOf('interactive encode')).toBeLessThanOrEqual(2);
    expect(finished.indexOf('interactive infer')).toBeLessThanOrEqual(3);
    const alone = await pool.score('probe', ['a short passage', 'another one']);
    expect(Array.from(logits).map((logit) => 1 / (1 + Math.exp(-logit)))).toEqual(alone.scores.map((score) => expect.closeTo(score, 4)));
  });

  it('should keep first-in, first-out order within a lane', async () => {
    const finished: number[] = [];
    await Promise.all(Array.from({ length: 6 }, (_, i) => pool.encode(`q ${i}`, documents.slice(0, 50), {}, 'batch').then(() => finished.push(i))));
    expect(finished).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
