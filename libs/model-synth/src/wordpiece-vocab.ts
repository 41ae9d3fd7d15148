import { ENGLISH_WORDS } from './english-words.js';
import { SynthError } from './errors.js';

/** The special tokens at the ids every BERT-uncased checkpoint uses. */
export const SPECIAL_TOKENS = { pad: '[PAD]', unk: '[UNK]', cls: '[CLS]', sep: '[SEP]', mask: '[MASK]' } as const;
const UNUSED_SLOTS = 99;

const PUNCTUATION = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];
const ALPHANUMERICS = [...'0123456789abcdefghijklmnopqrstuvwxyz'];
const SUFFIXES = [
  's', 'es', 'ed', 'd', 'ing', 'er', 'ers', 'est', 'ly', 'y', 'ion', 'ions', 'tion', 'sion', 'ment', 'ness',
  'able', 'ible', 'ful', 'less', 'al', 'ial', 'ity', 'ous', 'ive', 'ize', 'ise', 'ic', 'ist', 'ism', 'en', 'ure',
];
const ONSETS = [
  '', 'b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'qu', 'r', 's', 't', 'v', 'w', 'x', 'y', 'z',
  'bl', 'br', 'ch', 'cl', 'cr', 'dr', 'fl', 'fr', 'gl', 'gr', 'ph', 'pl', 'pr', 'sc', 'sh', 'sk', 'sl', 'sm',
  'sn', 'sp', 'st', 'str', 'sw', 'th', 'tr', 'tw', 'wh', 'wr',
];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'y', 'ai', 'au', 'ea', 'ee', 'ei', 'ie', 'io', 'oa', 'oo', 'ou', 'ue'];
const CODAS = ['n', 'r', 's', 't', 'l', 'd', 'm', 'nd', 'ng', 'nt', 'st', 'ck', 'll', 'p', 'rt', 'rd', 'ss', 'th', 'c', 'g', 'b', 'f', 'x'];

const continuation = (piece: string): string => `##${piece}`;

/**
 * The vocabulary every preset starts with (the whole vocabulary of `tiny`): specials at BERT's ids,
 * then characters and their continuations, so any lowercase ASCII word tokenizes without [UNK]; then
 * whole words, suffixes and consonant-vowel syllables so that ordinary text needs few pieces per word.
 */
export const BASE_VOCABULARY: readonly string[] = uniqueInOrder([
  SPECIAL_TOKENS.pad,
  ...Array.from({ length: UNUSED_SLOTS }, (_, index) => `[unused${index}]`),
  SPECIAL_TOKENS.unk,
  SPECIAL_TOKENS.cls,
  SPECIAL_TOKENS.sep,
  SPECIAL_TOKENS.mask,
  ...PUNCTUATION,
  ...ALPHANUMERICS,
  ...ALPHANUMERICS.map(continuation),
  ...ENGLISH_WORDS,
  ...SUFFIXES.map(continuation),
  ...ONSETS.flatMap((onset) => VOWELS.flatMap((vowel) => [onset + vowel, continuation(onset + vowel)])),
]);

/**
 * A deterministic vocabulary of exactly `size` pieces: the base vocabulary, then closed syllables
 * (onset + vowel + coda) and finally two-syllable pieces, as whole-word starts and continuations.
 */
export function buildVocabulary(size: number): string[] {
  if (size < BASE_VOCABULARY.length) {
    throw new SynthError(
      'SYNTH_VOCAB_TOO_SMALL',
      `vocabSize must be at least ${BASE_VOCABULARY.length} (the base vocabulary), got ${size}`,
    );
  }
  const vocabulary = [...BASE_VOCABULARY];
  const seen = new Set(vocabulary);
  for (const piece of fillerPieces()) {
    if (vocabulary.length >= size) break;
    if (seen.has(piece)) continue;
    seen.add(piece);
    vocabulary.push(piece);
  }
  if (vocabulary.length < size) {
    throw new SynthError('SYNTH_INVALID_SHAPE', `vocabSize ${size} exceeds the ${vocabulary.length} pieces this generator can make`);
  }
  return vocabulary;
}

function* fillerPieces(): Generator<string> {
  // Real BERT vocabularies hold the common inflected forms as whole words; without them every
  // "reviewed" or "schools" costs an extra piece.
  for (const word of ENGLISH_WORDS) yield* inflections(word);
  // Coda outermost so a partial fill still covers every onset and vowel.
  for (const coda of CODAS) {
    for (const onset of ONSETS) {
      for (const vowel of VOWELS) {
        yield onset + vowel + coda;
        yield continuation(onset + vowel + coda);
      }
    }
  }
  // ~720k more pieces: far beyond any BERT vocabulary.
  for (const first of VOWELS) {
    for (const onset of ONSETS) {
      for (const second of VOWELS) {
        for (const lead of ONSETS) {
          yield continuation(lead + first + onset + second);
        }
      }
    }
  }
}

/** Plural/third-person, past and gerund forms by the regular spelling rules; irregular forms are not needed. */
function inflections(word: string): string[] {
  if (word.length < 3) return [];
  const stem = word.slice(0, -1);
  const last = word.at(-1);
  const consonantY = last === 'y' && !/[aeiou]/.test(word.at(-2) ?? '');
  const plural = consonantY ? `${stem}ies` : /(s|x|z|ch|sh)$/.test(word) ? `${word}es` : `${word}s`;
  const past = consonantY ? `${stem}ied` : last === 'e' ? `${word}d` : `${word}ed`;
  const gerund = last === 'e' && !word.endsWith('ee') ? `${stem}ing` : `${word}ing`;
  return [plural, past, gerund];
}

function uniqueInOrder(pieces: readonly string[]): string[] {
  return [...new Set(pieces)];
}
