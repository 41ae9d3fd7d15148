import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { buildBertGraph } from './bert-graph.js';
import { SynthError } from './errors.js';
import { modelConfigJson, tokenizerConfigJson, tokenizerJson } from './hub-files.js';
import { encodeModel } from './onnx-proto.js';
import { resolvePreset, type BertShape, type SynthPresetName } from './presets.js';
import { createRng } from './random.js';
import { buildVocabulary } from './wordpiece-vocab.js';

export interface SynthesizeOptions {
  /** Which real model's shape to imitate. */
  preset: SynthPresetName;
  /** Directory to write into; created if missing, existing files of the same names are overwritten. */
  outDir: string;
  /** Seed of the weights; the same seed gives a byte-identical model.onnx. Default 42. */
  seed?: number;
  /** Give the graph a `token_type_ids` input as BERT has; false imitates XLM-R exports. Default true. */
  tokenTypeInput?: boolean;
}

export interface SynthesizedModel {
  /** Absolute path of the model directory. */
  dir: string;
  preset: SynthPresetName;
  shape: BertShape;
  /** Number of weights written, equal to countBertParameters(shape). */
  parameterCount: number;
  /** Written file names, relative to `dir`. */
  files: string[];
}

const DEFAULT_SEED = 42;
/** ir_version 8 with opset 17 loads in every onnxruntime from 1.14 on. */
const IR_VERSION = 8;
const OPSET_VERSION = 17;
const PRODUCER = { name: 'rerank-pool-model-synth', version: '0.1.0' };

export async function synthesizeModel(options: SynthesizeOptions): Promise<SynthesizedModel> {
  const { preset, outDir, seed = DEFAULT_SEED, tokenTypeInput = true } = options;
  const shape = resolvePreset(preset);
  if (typeof outDir !== 'string' || outDir.length === 0) {
    throw new SynthError('SYNTH_INVALID_OPTION', 'outDir must be a non-empty path');
  }
  if (!Number.isSafeInteger(seed)) {
    throw new SynthError('SYNTH_INVALID_OPTION', `seed must be an integer, got ${seed}`);
  }

  const dir = path.resolve(outDir);
  await mkdir(dir, { recursive: true });
  const vocabulary = buildVocabulary(shape.vocabSize);
  const { graph, parameterCount } = buildBertGraph(shape, createRng(seed), { tokenTypeInput });
  const model = encodeModel({
    irVersion: IR_VERSION,
    opsetVersion: OPSET_VERSION,
    producerName: PRODUCER.name,
    producerVersion: PRODUCER.version,
    graph,
  });

  const json = (value: object): string => `${JSON.stringify(value, null, 2)}\n`;
  const contents: Record<string, string | Uint8Array> = {
    'config.json': json(modelConfigJson({ shape, preset, seed })),
    'model.onnx': Buffer.concat(model.finish()),
    'tokenizer.json': json(tokenizerJson(vocabulary)),
    'tokenizer_config.json': json(tokenizerConfigJson(vocabulary)),
  };
  await Promise.all(Object.entries(contents).map(([name, data]) => writeFile(path.join(dir, name), data)));
  return { dir, preset, shape: { ...shape }, parameterCount, files: Object.keys(contents) };
}
