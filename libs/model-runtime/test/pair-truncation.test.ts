import { describe, expect, it } from 'vitest';
import { ModelRuntimeError, truncatePairLengths } from '@rerank-pool/model-runtime';

// Expected values worked out by hand from the tokenizers crate's LongestFirst rules.
describe('when a pair does not fit with longest_first', () => {
  it('should keep a pair that fits untouched', () => {
    expect(truncatePairLengths({ first: 4, second: 5 }, 9, 'longest_first')).toEqual({ first: 4, second: 5 });
  });

  it('should cut only the longer side when the shorter one fits in the remainder', () => {
    expect(truncatePairLengths({ first: 3, second: 20 }, 10, 'longest_first')).toEqual({ first: 3, second: 7 });
    expect(truncatePairLengths({ first: 20, second: 3 }, 10, 'longest_first')).toEqual({ first: 7, second: 3 });
  });

  it('should split the budget in half when both sides are long, odd token to the longer side', () => {
    expect(truncatePairLengths({ first: 10, second: 20 }, 9, 'longest_first')).toEqual({ first: 4, second: 5 });
    expect(truncatePairLengths({ first: 20, second: 10 }, 9, 'longest_first')).toEqual({ first: 5, second: 4 });
    expect(truncatePairLengths({ first: 8, second: 8 }, 9, 'longest_first')).toEqual({ first: 4, second: 5 });
    expect(truncatePairLengths({ first: 300, second: 600 }, 509, 'longest_first')).toEqual({ first: 254, second: 255 });
  });

  it('should never return more than the budget', () => {
    for (let first = 0; first < 40; first++) {
      for (let second = 0; second < 40; second++) {
        const kept = truncatePairLengths({ first, second }, 17, 'longest_first');
        expect(kept.first + kept.second).toBeLessThanOrEqual(17);
        expect(kept.first).toBeLessThanOrEqual(first);
        expect(kept.second).toBeLessThanOrEqual(second);
      }
    }
  });
});

describe('when a pair does not fit with only_second', () => {
  it('should cut the document only', () => {
    expect(truncatePairLengths({ first: 3, second: 20 }, 10, 'only_second')).toEqual({ first: 3, second: 7 });
  });

  it('should refuse a query that leaves no room for the document', () => {
    const attempt = () => truncatePairLengths({ first: 12, second: 5 }, 10, 'only_second');
    expect(attempt).toThrow(ModelRuntimeError);
    expect(attempt).toThrow(/query has 12 tokens/);
  });
});
