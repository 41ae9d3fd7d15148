import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rankResults, rerankBody, rerankBodyForJob, rerankSignals } from '../src/index.js';
import type { RerankJobData, RerankJobResult } from '../src/index.js';

/** Kendall tau by its definition, over every pair: concordant minus discordant, over all pairs. */
function bruteForceTau(scores: readonly number[]): number {
  const position = new Map(rankResults(scores).map((result, rank) => [result.index, rank]));
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    for (let j = i + 1; j < scores.length; j++) sum += position.get(i)! < position.get(j)! ? 1 : -1;
  }
  return sum / ((scores.length * (scores.length - 1)) / 2);
}

const descending = (n: number) => Array.from({ length: n }, (_, index) => 1 - index / n);

describe('when re-ranking keeps or reverses the input order', () => {
  it('should give tau 1 for an unchanged order and keep the whole top 10', () => {
    const signals = rerankSignals(descending(30));
    expect(signals.kendallTau).toBe(1);
    expect(signals.top10Kept).toBe(10);
    expect(signals.top10KeptFraction).toBe(1);
    expect(signals.documents).toBe(30);
  });

  it('should give tau -1 for a reversed order, and keep none of the top 10 of a longer list', () => {
    const signals = rerankSignals(descending(30).reverse());
    expect(signals.kendallTau).toBe(-1);
    expect(signals.top10Kept).toBe(0);
    expect(signals.top10KeptFraction).toBe(0);
  });

  it('should count the top of a list shorter than 10 as the whole list', () => {
    // Reversed, but five documents are all the top there is.
    const signals = rerankSignals([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(signals.kendallTau).toBe(-1);
    expect(signals.top10Kept).toBe(5);
    expect(signals.top10KeptFraction).toBe(1);
  });
});

describe('when the order changes in part', () => {
  it('should count discordant pairs: two adjacent swaps of four give tau 1/3', () => {
    // Re-ranked order 1, 0, 3, 2: two of six pairs discordant.
    expect(rerankSignals([0.8, 0.9, 0.1, 0.2]).kendallTau).toBeCloseTo(1 / 3, 12);
  });

  it('should count how many of the input top 10 stay in the top 10', () => {
    const scores = descending(25);
    // Input documents 0 and 3 sink to the bottom: 10 and 11 move up into the top 10.
    scores[0] = -1;
    scores[3] = -2;
    const signals = rerankSignals(scores);
    expect(signals.top10Kept).toBe(8);
    expect(signals.top10KeptFraction).toBe(0.8);
  });

  it('should match tau and the top 10 computed by definition on random scores, ties included', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 2, maxLength: 60 }), (integers) => {
        // Few distinct values: many ties, broken by input order as the results are.
        const scores = integers.map((value) => value / 20);
        const signals = rerankSignals(scores);
        expect(signals.kendallTau).toBeCloseTo(bruteForceTau(scores), 12);
        const k = Math.min(10, scores.length);
        const top = rankResults(scores, { topN: k }).map((result) => result.index);
        expect(signals.top10Kept).toBe(top.filter((index) => index < k).length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('when scores tie', () => {
  it('should keep tied documents in input order, so all-equal scores read as unchanged with no spread', () => {
    const signals = rerankSignals([0.5, 0.5, 0.5, 0.5]);
    expect(signals.kendallTau).toBe(1);
    expect(signals.scoreSpread).toBe(0);
    expect(signals.scoreStdev).toBe(0);
  });

  it('should count a tie as concordant: only the moved document makes discordant pairs', () => {
    // Re-ranked order 1, 0, 2: document 1 passes document 0 (one discordant pair of three); the tie
    // between 0 and 2 keeps its input order.
    expect(rerankSignals([0.5, 0.9, 0.5]).kendallTau).toBeCloseTo(1 / 3, 12);
  });
});

describe('when truncation and scores are summarized', () => {
  it('should give the fraction of documents truncated, or null when the result does not say', () => {
    const signals = rerankSignals([0.1, 0.2, 0.3, 0.4], [true, false, false, true]);
    expect(signals.truncatedDocuments).toBe(2);
    expect(signals.truncatedFraction).toBe(0.5);
    expect(rerankSignals([0.1, 0.2]).truncatedFraction).toBeNull();
    expect(rerankSignals([0.1, 0.2], [false, false]).truncatedFraction).toBe(0);
  });

  it('should give the spread as highest minus lowest score and the population standard deviation', () => {
    const signals = rerankSignals([0.5, 0.1, 0.9]);
    expect(signals.scoreSpread).toBeCloseTo(0.8, 12);
    expect(signals.scoreStdev).toBeCloseTo(Math.sqrt((0.16 + 0.16) / 3), 12);
  });

  it('should leave tau null for one document, which has no order to change', () => {
    expect(rerankSignals([0.7])).toMatchObject({ documents: 1, kendallTau: null, top10Kept: 1, top10KeptFraction: 1, scoreSpread: 0 });
  });

  it('should refuse no scores, or truncation flags that do not match them', () => {
    expect(() => rerankSignals([])).toThrow(/at least one score/);
    expect(() => rerankSignals([0.1, 0.2], [true])).toThrow(/1 truncation flags for 2 scores/);
  });
});

describe('when a response carries the signals', () => {
  const result: RerankJobResult = {
    v: 1,
    model: 'm',
    scores: [0.2, 0.9, 0.4],
    logits: [0, 0, 0],
    inputTokens: 30,
    timings: { queueMs: 1, inferenceMs: 2 },
    truncated: [false, true, false],
  };

  it('should put them in meta.signals in snake_case only when given', () => {
    expect(rerankBody(result, { totalMs: 5 }).meta.signals).toBeUndefined();
    const { meta } = rerankBody(result, { totalMs: 5, signals: rerankSignals(result.scores, result.truncated) });
    expect(meta.signals).toEqual({
      documents: 3,
      // Order 1, 2, 0: document 0 falls behind both others, two of three pairs discordant.
      kendall_tau: expect.closeTo(-1 / 3, 12),
      top10_kept: 3,
      top10_kept_fraction: 1,
      truncated_documents: 1,
      truncated_fraction: 1 / 3,
      score_spread: expect.closeTo(0.7, 12),
      score_stdev: expect.closeTo(Math.sqrt(((0.2 - 0.5) ** 2 + (0.9 - 0.5) ** 2 + (0.4 - 0.5) ** 2) / 3), 12),
    });
  });

  it('should compute a stored job\'s signals over every document when its request asked, whatever top_n returns', () => {
    const data: RerankJobData = {
      v: 1,
      model: 'm',
      query: 'q',
      documents: ['a', 'b', 'c'],
      options: {},
      priority: 'batch',
      tenant: 't',
      createdAt: 0,
      response: { topN: 1, returnSignals: true },
    };
    const body = rerankBodyForJob(data, result, 5);
    expect(body.results).toHaveLength(1);
    expect(body.meta.signals).toMatchObject({ documents: 3, top10_kept: 3, truncated_documents: 1 });
    expect(rerankBodyForJob({ ...data, response: { topN: 1 } }, result, 5).meta.signals).toBeUndefined();
  });
});
