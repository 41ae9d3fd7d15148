import { ModelRuntimeError } from './errors.js';

/**
 * How a (query, document) pair that does not fit is cut, with the semantics of the
 * Hugging Face `tokenizers` crate (TruncationStrategy):
 * - `longest_first`: shorten the longer side first; when both must be cut, the budget is
 *   split in half and the side that was longer gets the odd token.
 * - `only_second`: cut only the document; a query that alone overflows is an error.
 */
export type TruncationStrategy = 'longest_first' | 'only_second';

/**
 * Which end of a text a cut drops, as the crate's TruncationDirection: `right` keeps the
 * beginning, `left` keeps the end. The lengths kept are the same either way.
 */
export type TruncationDirection = 'left' | 'right';

export interface PairLengths {
  first: number;
  second: number;
}

/**
 * Returns how many tokens of each side to keep so that first + second <= budget, where
 * budget is max_length minus the special tokens the pair template adds.
 */
export function truncatePairLengths(lengths: PairLengths, budget: number, strategy: TruncationStrategy): PairLengths {
  const { first, second } = lengths;
  if (first + second <= budget) return lengths;
  if (strategy === 'only_second') {
    if (first >= budget) {
      throw new ModelRuntimeError(
        'INPUT_TOO_LONG',
        `the query has ${first} tokens, which leaves no room for the document within ${budget} tokens; ` +
          `shorten the query or use the longest_first truncation`,
      );
    }
    return { first, second: budget - first };
  }
  // The crate reasons about (shorter, longer) and swaps back at the end.
  const swapped = first > second;
  let short = swapped ? second : first;
  let long = swapped ? first : second;
  long = short > budget ? short : Math.max(short, budget - short);
  if (short + long > budget) {
    short = Math.floor(budget / 2);
    long = short + (budget % 2);
  }
  return swapped ? { first: long, second: short } : { first: short, second: long };
}
