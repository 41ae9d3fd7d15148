import { BERT_LAYER_NORM_EPS, type BertShape, type SynthPresetName } from './presets.js';
import { SPECIAL_TOKENS } from './wordpiece-vocab.js';

/*
 * The JSON files of a Hub BERT cross-encoder, field for field as the Hub serves them for
 * cross-encoder/ms-marco-MiniLM-L-6-v2, so loaders are tested against the real format.
 */

const MAX_LENGTH = 512;

const addedTokenFlags = { single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };

function specialIds(vocabulary: readonly string[]): { token: string; id: number }[] {
  return [SPECIAL_TOKENS.pad, SPECIAL_TOKENS.unk, SPECIAL_TOKENS.cls, SPECIAL_TOKENS.sep, SPECIAL_TOKENS.mask]
    .map((token) => ({ token, id: vocabulary.indexOf(token) }))
    .sort((a, b) => a.id - b.id);
}

export function tokenizerJson(vocabulary: readonly string[]): object {
  const idOf = (token: string): number => vocabulary.indexOf(token);
  const special = (token: string, typeId: number) => ({ SpecialToken: { id: token, type_id: typeId } });
  const sequence = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const templateToken = (token: string) => ({ id: token, ids: [idOf(token)], tokens: [token] });
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: MAX_LENGTH, strategy: 'LongestFirst', stride: 0 },
    padding: null,
    added_tokens: specialIds(vocabulary).map(({ token, id }) => ({ id, content: token, ...addedTokenFlags })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(SPECIAL_TOKENS.cls, 0), sequence('A', 0), special(SPECIAL_TOKENS.sep, 0)],
      pair: [
        special(SPECIAL_TOKENS.cls, 0),
        sequence('A', 0),
        special(SPECIAL_TOKENS.sep, 0),
        sequence('B', 1),
        special(SPECIAL_TOKENS.sep, 1),
      ],
      special_tokens: {
        [SPECIAL_TOKENS.cls]: templateToken(SPECIAL_TOKENS.cls),
        [SPECIAL_TOKENS.sep]: templateToken(SPECIAL_TOKENS.sep),
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: SPECIAL_TOKENS.unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocabulary.map((piece, id) => [piece, id])),
    },
  };
}

export function tokenizerConfigJson(vocabulary: readonly string[]): object {
  const { single_word, lstrip, rstrip, normalized, special } = addedTokenFlags;
  return {
    added_tokens_decoder: Object.fromEntries(
      specialIds(vocabulary).map(({ token, id }) => [String(id), { content: token, lstrip, normalized, rstrip, single_word, special }]),
    ),
    clean_up_tokenization_spaces: true,
    cls_token: SPECIAL_TOKENS.cls,
    do_basic_tokenize: true,
    do_lower_case: true,
    mask_token: SPECIAL_TOKENS.mask,
    model_max_length: MAX_LENGTH,
    never_split: null,
    pad_token: SPECIAL_TOKENS.pad,
    sep_token: SPECIAL_TOKENS.sep,
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: SPECIAL_TOKENS.unk,
  };
}

export interface ModelConfigOptions {
  shape: BertShape;
  preset: SynthPresetName;
  seed: number;
}

export function modelConfigJson({ shape, preset, seed }: ModelConfigOptions): object {
  return {
    architectures: ['BertForSequenceClassification'],
    attention_probs_dropout_prob: 0.1,
    classifier_dropout: null,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: shape.hiddenSize,
    id2label: { '0': 'LABEL_0' },
    initializer_range: 0.02,
    intermediate_size: shape.intermediateSize,
    label2id: { LABEL_0: 0 },
    layer_norm_eps: BERT_LAYER_NORM_EPS,
    max_position_embeddings: shape.maxPositions,
    model_type: 'bert',
    num_attention_heads: shape.numHeads,
    num_hidden_layers: shape.numLayers,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    type_vocab_size: shape.typeVocabSize,
    use_cache: true,
    vocab_size: shape.vocabSize,
    // Not a Hub field: lets tools and logs tell a synthetic model from a downloaded one.
    rerank_pool_synthetic: { preset, seed },
  };
}
