import { describe, expect, it } from 'vitest';
import { rawScore, relevanceScore } from '@rerank-pool/model-runtime';

describe('when turning logits into scores', () => {
  it('should apply a sigmoid to one-logit models', () => {
    const logits = new Float32Array([0, 2, -3]);
    expect(relevanceScore(logits, 1, 0)).toBeCloseTo(0.5, 10);
    expect(relevanceScore(logits, 1, 1)).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
    expect(relevanceScore(logits, 1, 2)).toBeCloseTo(1 / (1 + Math.exp(3)), 6);
    expect(rawScore(logits, 1, 2)).toBe(-3);
  });

  it('should take the softmax probability of label 1 for two-label models', () => {
    const logits = new Float32Array([1, 3, 800, -800]);
    const expected = Math.exp(3) / (Math.exp(1) + Math.exp(3));
    expect(relevanceScore(logits, 2, 0)).toBeCloseTo(expected, 6);
    expect(relevanceScore(logits, 2, 1)).toBe(0);
    expect(rawScore(logits, 2, 0)).toBe(2);
  });
});
