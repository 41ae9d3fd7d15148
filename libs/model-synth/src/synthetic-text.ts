import { ENGLISH_WORDS } from './english-words.js';

const MIN_SENTENCE = 4;
const MAX_SENTENCE = 14;

/**
 * Deterministic English-looking text of exactly `words` words, drawn from the vocabulary's word list:
 * capitalised sentences with commas and full stops, so tokenization exercises lowercasing and
 * punctuation splitting like real passages do.
 */
export function syntheticText(rng: () => number, words: number): string {
  const pick = (count: number): number => Math.floor(rng() * count);
  const sentences: string[] = [];
  let remaining = words;
  while (remaining > 0) {
    const length = Math.min(remaining, MIN_SENTENCE + pick(MAX_SENTENCE - MIN_SENTENCE + 1));
    const sentence = Array.from({ length }, () => ENGLISH_WORDS[pick(ENGLISH_WORDS.length)]);
    sentence[0] = sentence[0][0].toUpperCase() + sentence[0].slice(1);
    if (length > 6 && rng() < 0.5) sentence[2 + pick(length - 4)] += ',';
    sentences.push(`${sentence.join(' ')}.`);
    remaining -= length;
  }
  return sentences.join(' ');
}
