import { describe, expect, it } from 'vitest';
import { rankResults } from '../src/index.js';

describe('when ranking scores', () => {
  it('should order best first, keep input order on ties, cut to topN and echo documents', () => {
    expect(rankResults([0.1, 0.9, 0.5, 0.9], { topN: 3, documents: ['a', 'b', 'c', 'd'] })).toEqual([
      { index: 1, relevance_score: 0.9, document: { text: 'b' } },
      { index: 3, relevance_score: 0.9, document: { text: 'd' } },
      { index: 2, relevance_score: 0.5, document: { text: 'c' } },
    ]);
    expect(rankResults([0.2, 0.3], { topN: 10 })).toEqual([
      { index: 1, relevance_score: 0.3 },
      { index: 0, relevance_score: 0.2 },
    ]);
  });
});
