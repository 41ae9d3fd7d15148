import { SynthError } from './errors.js';
import { BASE_VOCABULARY } from './wordpiece-vocab.js';

export type SynthPresetName = 'tiny' | 'tinybert-l2' | 'minilm-l6';

/** The hyper-parameters of a BERT encoder, as in a Hub config.json (camel-cased). */
export interface BertShape {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
}

const BERT_UNCASED_VOCAB = 30522;

/** layer_norm_eps of every BERT checkpoint these presets imitate. */
export const BERT_LAYER_NORM_EPS = 1e-12;

export const SYNTH_PRESETS: Readonly<Record<SynthPresetName, Readonly<BertShape>>> = Object.freeze({
  /** Small enough to build and run in milliseconds; its vocabulary is just the base vocabulary. */
  tiny: Object.freeze({
    vocabSize: BASE_VOCABULARY.length,
    hiddenSize: 32,
    numLayers: 2,
    numHeads: 2,
    intermediateSize: 64,
    maxPositions: 512,
    typeVocabSize: 2,
  }),
  /** cross-encoder/ms-marco-TinyBERT-L-2-v2. */
  'tinybert-l2': Object.freeze({
    vocabSize: BERT_UNCASED_VOCAB,
    hiddenSize: 128,
    numLayers: 2,
    numHeads: 2,
    intermediateSize: 512,
    maxPositions: 512,
    typeVocabSize: 2,
  }),
  /** cross-encoder/ms-marco-MiniLM-L-6-v2. */
  'minilm-l6': Object.freeze({
    vocabSize: BERT_UNCASED_VOCAB,
    hiddenSize: 384,
    numLayers: 6,
    numHeads: 12,
    intermediateSize: 1536,
    maxPositions: 512,
    typeVocabSize: 2,
  }),
});

export function resolvePreset(name: string): Readonly<BertShape> {
  if (!Object.hasOwn(SYNTH_PRESETS, name)) {
    throw new SynthError(
      'SYNTH_UNKNOWN_PRESET',
      `unknown preset "${name}"; valid presets: ${Object.keys(SYNTH_PRESETS).join(', ')}`,
    );
  }
  return SYNTH_PRESETS[name as SynthPresetName];
}

/** Parameters of BertForSequenceClassification with one label, counted as PyTorch does. */
export function countBertParameters(shape: BertShape): number {
  const { vocabSize, hiddenSize: h, numLayers, intermediateSize: i, maxPositions, typeVocabSize } = shape;
  const dense = (inSize: number, outSize: number): number => inSize * outSize + outSize;
  const layerNorm = 2 * h;
  const embeddings = (vocabSize + maxPositions + typeVocabSize) * h + layerNorm;
  const attention = 4 * dense(h, h) + layerNorm;
  const feedForward = dense(h, i) + dense(i, h) + layerNorm;
  return embeddings + numLayers * (attention + feedForward) + dense(h, h) + dense(h, 1);
}
