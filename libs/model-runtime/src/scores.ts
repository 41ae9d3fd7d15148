/**
 * Turns a model's logits into relevance scores: sigmoid for one-logit models (0..1, like
 * hosted rerank APIs), softmax probability of label 1 for two-label models.
 */
export function relevanceScore(logits: Float32Array, numLabels: number, row: number): number {
  if (numLabels === 1) return 1 / (1 + Math.exp(-logits[row]!));
  const irrelevant = logits[row * 2]!;
  const relevant = logits[row * 2 + 1]!;
  // softmax([a, b])[1] = sigmoid(b - a), without overflowing exp for large logits.
  return 1 / (1 + Math.exp(irrelevant - relevant));
}

/** The raw score of a row: the logit itself, or the relevant-minus-irrelevant margin for two labels. */
export function rawScore(logits: Float32Array, numLabels: number, row: number): number {
  if (numLabels === 1) return logits[row]!;
  return logits[row * 2 + 1]! - logits[row * 2]!;
}
