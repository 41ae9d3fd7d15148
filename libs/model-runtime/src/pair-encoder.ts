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
  /**
   * Score a document that does not fit as up to this many overlapping chunks, one pair row each
   * (Cohere's max_chunks_per_doc). Default 1: truncation, today's single row.
   */
  maxChunksPerDoc?: number;
}

/**
 * Consecutive chunks share a quarter of the window. A sentence cut by one chunk's edge is then
 * whole in its neighbour as long as it is under a quarter of the window (~120 tokens at 512),
 * while the tokens computed per document token stay at 4/3: enough overlap for passages,
 * without paying for a half-window stride's doubling.
 */
export const CHUNK_OVERLAP_FRACTION = 0.25;

/**
 * Where each chunk of a `length`-token document starts when the window holds `window` tokens:
 * strides of window − overlap from the beginning (direction right) or from the end (left, so the
 * first chunk kept is the one truncation from the left would keep), at most `maxChunks`, in
 * document order. A document longer than maxChunks chunks loses what lies past the last one.
 */
export function chunkStarts(length: number, window: number, maxChunks: number, direction: TruncationDirection): number[] {
  const stride = Math.max(1, window - Math.floor(window * CHUNK_OVERLAP_FRACTION));
  const starts: number[] = [];
  if (direction === 'right') {
    for (let start = 0; starts.length < maxChunks; start += stride) {
      starts.push(start);
      if (start + window >= length) break;
    }
    return starts;
  }
  for (let end = length; starts.length < maxChunks; end -= stride) {
    starts.push(Math.max(0, end - window));
    if (end - window <= 0) break;
  }
  return starts.reverse();
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
  /** True when tokens were dropped to fit (for chunks: the chunks do not cover the document). */
  truncated: boolean;
  /** The chunk's index within its document; absent for a document encoded as one row. */
  chunk?: number;
  /** The chunk's first token within the document's tokens. */
  chunkStart?: number;
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
    const maxChunks = options.maxChunksPerDoc ?? 1;
    if (!Number.isInteger(maxChunks) || maxChunks < 1) {
      throw new ModelRuntimeError('INVALID_OPTION', `maxChunksPerDoc must be a positive integer, got ${JSON.stringify(maxChunks)}`);
    }
    const queryIds = this.tokenize(query);
    return documents.flatMap((document) => {
      let docIds = this.tokenize(document);
      let truncated = false;
      if (options.maxTokensPerDoc !== undefined && docIds.length > options.maxTokensPerDoc) {
        docIds = keepTokens(docIds, options.maxTokensPerDoc, direction);
        truncated = true;
      }
      const keep = truncatePairLengths({ first: queryIds.length, second: docIds.length }, budget, strategy);
      const queryCut = keep.first < queryIds.length;
      if (maxChunks === 1 || keep.second >= docIds.length) {
        // One row, exactly as without chunking: a document that fits is never touched by it.
        truncated ||= queryCut || keep.second < docIds.length;
        return [this.assemble(keepTokens(queryIds, keep.first, direction), keepTokens(docIds, keep.second, direction), truncated)];
      }
      // The query keeps the share truncation gives it; the document's window is the rest, so
      // the chunk truncation would keep is chunk 0 (right) or the last one (left), bit for bit.
      const queryPart = keepTokens(queryIds, keep.first, direction);
      const window = keep.second;
      const starts = chunkStarts(docIds.length, window, maxChunks, direction);
      const last = starts[starts.length - 1]!;
      truncated ||= queryCut || starts[0]! > 0 || last + window < docIds.length;
      return starts.map((start, chunk) => ({
        ...this.assemble(queryPart, docIds.slice(start, start + window), truncated),
        chunk,
        chunkStart: start,
      }));
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
