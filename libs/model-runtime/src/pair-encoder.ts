import { Tokenizer } from '@huggingface/tokenizers';
import { ModelRuntimeError } from './errors.js';
import { truncatePairLengths, type TruncationDirection, type TruncationStrategy } from './pair-truncation.js';

export interface PairEncodeOptions {
  /** Longest encoded pair, special tokens included. Default: the model's own limit. */
  maxLength?: number;
  /** Default `longest_first`. */
  truncation?: TruncationStrategy;
  /** Cut every document to this many tokens before fitting the pair (Cohere's max_tokens_per_doc). */
  maxTokensPerDoc?: number;
  /**
   * Which end a cut drops (the `tokenizers` crate's TruncationDirection, TEI's
   * `truncation_direction`): `right` keeps a text's beginning, `left` keeps its end. Default `right`.
   */
  truncationDirection?: TruncationDirection;
}

/** The first `count` tokens (direction right) or the last `count` (direction left). */
function keepTokens(ids: number[], count: number, direction: TruncationDirection): number[] {
  if (count >= ids.length) return ids;
  return direction === 'left' ? ids.slice(ids.length - count) : ids.slice(0, count);
}

/** One encoded pair: `[CLS] query [SEP] document [SEP]` (or the model's own template). */
export interface EncodedPair {
  ids: number[];
  typeIds: number[];
  /** True when tokens were dropped to fit. */
  truncated: boolean;
}

type TemplatePart = { kind: 'special'; id: number; typeId: number } | { kind: 'first' | 'second'; typeId: number };

const FIRST = '\u0000first';
const SECOND = '\u0000second';

/**
 * Learns the pair template (special tokens and segment ids) by running the tokenizer's own
 * post-processor over two placeholders, so BERT (`[CLS] A [SEP] B [SEP]`, segments 0/1) and
 * XLM-R (`<s> A </s></s> B </s>`, all segment 0) are handled by the same code.
 */
function learnTemplate(tokenizer: Tokenizer): TemplatePart[] {
  const processor = tokenizer.post_processor;
  if (!processor) return [{ kind: 'first', typeId: 0 }, { kind: 'second', typeId: 1 }];
  const out = processor(
    [FIRST],
    [SECOND],
    true,
  ) as { tokens: string[]; tokens_pair?: string[]; token_type_ids?: number[] };
  const tokens = out.tokens_pair ? [...out.tokens, ...out.tokens_pair] : out.tokens;
  return tokens.map((token, i) => {
    const typeId = out.token_type_ids?.[i] ?? 0;
    if (token === FIRST) return { kind: 'first', typeId };
    if (token === SECOND) return { kind: 'second', typeId };
    const id = tokenizer.token_to_id(token) ?? tokenizer.get_vocab(true).get(token);
    if (id === undefined) {
      throw new ModelRuntimeError('MODEL_FILE_MALFORMED', `tokenizer.json's post_processor uses "${token}", which is not in its vocabulary`);
    }
    return { kind: 'special', id, typeId };
  });
}

/** Tokenizes (query, document) pairs for a cross-encoder, with Hugging Face truncation semantics. */
export class PairEncoder {
  readonly maxLength: number;
  readonly specialTokens: number;
  private readonly tokenizer: Tokenizer;
  private readonly template: TemplatePart[];

  constructor(tokenizerJson: object, tokenizerConfig: object, maxLength: number) {
    this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    this.template = learnTemplate(this.tokenizer);
    this.specialTokens = this.template.filter((part) => part.kind === 'special').length;
    this.maxLength = maxLength;
  }

  /** Token ids of a text alone, without special tokens. */
  tokenize(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  encode(query: string, documents: readonly string[], options: PairEncodeOptions = {}): EncodedPair[] {
    const maxLength = options.maxLength ?? this.maxLength;
    if (maxLength > this.maxLength) {
      throw new ModelRuntimeError('INVALID_OPTION', `maxLength ${maxLength} exceeds the model's limit of ${this.maxLength} tokens`);
    }
    const budget = maxLength - this.specialTokens;
    if (budget < 2) {
      throw new ModelRuntimeError('INVALID_OPTION', `maxLength ${maxLength} leaves no room for text after ${this.specialTokens} special tokens`);
    }
    const strategy = options.truncation ?? 'longest_first';
    const direction = options.truncationDirection ?? 'right';
    if (direction !== 'left' && direction !== 'right') {
      throw new ModelRuntimeError('INVALID_OPTION', `truncationDirection must be "left" or "right", got ${JSON.stringify(direction)}`);
    }
    const queryIds = this.tokenize(query);
    return documents.map((document) => {
      let docIds = this.tokenize(document);
      let truncated = false;
      if (options.maxTokensPerDoc !== undefined && docIds.length > options.maxTokensPerDoc) {
        docIds = keepTokens(docIds, options.maxTokensPerDoc, direction);
        truncated = true;
      }
      const keep = truncatePairLengths({ first: queryIds.length, second: docIds.length }, budget, strategy);
      truncated ||= keep.first < queryIds.length || keep.second < docIds.length;
      return this.assemble(keepTokens(queryIds, keep.first, direction), keepTokens(docIds, keep.second, direction), truncated);
    });
  }

  private assemble(first: number[], second: number[], truncated: boolean): EncodedPair {
    const ids: number[] = [];
    const typeIds: number[] = [];
    for (const part of this.template) {
      if (part.kind === 'special') {
        ids.push(part.id);
        typeIds.push(part.typeId);
        continue;
      }
      const source = part.kind === 'first' ? first : second;
      for (const id of source) {
        ids.push(id);
        typeIds.push(part.typeId);
      }
    }
    return { ids, typeIds, truncated };
  }
}
