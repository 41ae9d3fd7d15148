import { describe, expect, it } from 'vitest';
import { averageRanks, rankAgreement, spearman, topKOverlap } from '@rerank-pool/bench';

const twelve = [0.9, 0.1, 0.5, 0.3, 0.8, 0.2, 0.7, 0.4, 0.6, 0.05, 0.95, 0.15];

describe('when two precisions rank a query identically', () => {
  it('should give spearman 1 and top-10 overlap 1, whatever the scores themselves', () => {
    // Same order, every score shifted and scaled: agreement is on ranks, not values.
    const shifted = twelve.map((s) => s * 3 - 1);
    expect(spearman(twelve, shifted)).toBe(1);
    expect(topKOverlap(twelve, shifted, 10)).toBe(1);
  });
});

describe('when one precision reverses the other', () => {
  it('should give spearman -1 and a top-10 overlap of only the documents both must keep', () => {
    const reversed = twelve.map((s) => -s);
    expect(spearman(twelve, reversed)).toBe(-1);
    // Of 12 documents each top 10 leaves out 2, the other's top 2: 8 are shared.
    expect(topKOverlap(twelve, reversed, 10)).toBeCloseTo(0.8, 12);
  });

  it('should give a top-10 overlap of 0 when the two top 10 share nothing', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => i);
    expect(topKOverlap(twenty, twenty.map((s) => -s), 10)).toBe(0);
  });
});

describe('when two documents swap places', () => {
  it("should give Spearman's 1 - 6 sum(d^2) / (n(n^2 - 1)) and drop one document from the top 10 when the swap crosses the cut", () => {
    const a = Array.from({ length: 12 }, (_, i) => 12 - i); // ranks 1..12 in index order
    const b = [...a];
    [b[9], b[10]] = [b[10]!, b[9]!]; // ranks 10 and 11 trade places
    // d = 1 for two documents: 1 - 6 * 2 / (12 * 143)
    expect(spearman(a, b)).toBeCloseTo(1 - 12 / (12 * 143), 12);
    expect(topKOverlap(a, b, 10)).toBeCloseTo(0.9, 12);
  });
});

describe('when scores tie', () => {
  it('should give tied documents the mean of the ranks they span', () => {
    expect(averageRanks([0.5, 0.9, 0.5, 0.1])).toEqual([2.5, 1, 2.5, 4]);
  });

  it('should correlate through average ranks, so a tie on one side costs part of the correlation', () => {
    // b ties the first two of a's strictly ordered three: ranks (1.5, 1.5, 3) against (1, 2, 3).
    expect(spearman([3, 2, 1], [5, 5, 1])).toBeCloseTo(Math.sqrt(3) / 2, 12);
  });

  it('should call the correlation undefined when a side scores every document alike, and leave that query out of the mean', () => {
    expect(spearman([0.2, 0.2, 0.2], [0.3, 0.1, 0.2])).toBeUndefined();
    expect(spearman([1], [1])).toBeUndefined();
    const agreement = rankAgreement(
      [
        [0.2, 0.2, 0.2],
        [3, 2, 1],
      ],
      [
        [0.3, 0.1, 0.2],
        [1, 2, 3],
      ],
    );
    expect(agreement.spearmanMean).toBe(-1);
    expect(agreement.spearmanUndefined).toBe(1);
    expect(agreement.queries).toBe(2);
  });

  it('should settle a tie at the top-k cut by the lower document index on both sides', () => {
    // Documents 1 and 2 tie for second place; with k = 2 both sides keep document 1.
    expect(topKOverlap([0.9, 0.5, 0.5], [0.8, 0.4, 0.4], 2)).toBe(1);
    // On b, document 2 beats document 1 outright: the tops are {0, 1} and {0, 2}.
    expect(topKOverlap([0.9, 0.5, 0.5], [0.8, 0.4, 0.45], 2)).toBe(0.5);
  });
});

describe('when a query has fewer documents than k', () => {
  it('should compare all of them, so two rankings of the same five documents overlap fully', () => {
    expect(topKOverlap([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], 10)).toBe(1);
  });
});

describe('when agreement is averaged over a workload', () => {
  it('should average spearman and overlap per query', () => {
    const agreement = rankAgreement([twelve, twelve], [twelve, twelve.map((s) => -s)]);
    expect(agreement.spearmanMean).toBe(0);
    expect(agreement.topKOverlapMean).toBeCloseTo(0.9, 12);
    expect(agreement.spearmanUndefined).toBe(0);
    expect(agreement.k).toBe(10);
  });

  it('should refuse mismatched or non-finite input, naming where', () => {
    expect(() => rankAgreement([twelve], [])).toThrow('both sides must score the same queries: 1 against 0');
    expect(() => rankAgreement([], [])).toThrow('no queries to compare');
    expect(() => rankAgreement([[1, 2]], [[1]])).toThrow('2 scores against 1');
    expect(() => rankAgreement([[1, 2]], [[1, Number.NaN]])).toThrow('b[0][1] is not a finite score: NaN');
    expect(() => topKOverlap([1], [1], 0)).toThrow('k must be a positive integer, got 0');
  });
});
