import { basename, resolve } from 'node:path';
import { ModelRuntimeError } from './errors.js';
import type { ModelFiles } from './model-files.js';

/** What the rest of the system needs to know about a loaded cross-encoder. */
export interface ModelInfo {
  /** Hub id or folder name; callers may override it. */
  id: string;
  dir: string;
  onnxPath: string;
  modelType: string;
  /** Longest pair (special tokens included) the model accepts. */
  maxLength: number;
  /** 1 (sigmoid score) or 2 (softmax, label 1 is "relevant"). */
  numLabels: number;
  /** True for models written by `rerank-pool model synth`: their scores mean nothing. */
  synthetic: boolean;
  /** Weight type of the ONNX file, from its variant name (`model_fp16.onnx`, `model_quantized.onnx`): float32, float16, int8 or int4. */
  dtype: string;
  /** config.json's `id2label` and `label2id` (what TEI's `/info` reports), when it declares them. */
  labels?: { id2label: Record<string, string>; label2id: Record<string, number> };
}

/** The Hub's ONNX variants name their weight type; an unmarked `model.onnx` is float32. */
export function onnxDtype(onnxPath: string): string {
  const name = basename(onnxPath).toLowerCase();
  // int4 first: q4f16 holds int4 weights (with float16 activations).
  if (/q4|bnb4|int4/.test(name)) return 'int4';
  if (/fp16|float16/.test(name)) return 'float16';
  // 8-bit weights, signed or not: quantized and qint8_* (int8), quint8_avx2 and uint8 (uint8).
  if (/quantized|int8/.test(name)) return 'int8';
  return 'float32';
}

function labelsOf(config: Record<string, unknown>): ModelInfo['labels'] {
  const { id2label, label2id } = config;
  if (!id2label || typeof id2label !== 'object' || !label2id || typeof label2id !== 'object') return undefined;
  const names = Object.entries(id2label).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  const ids = Object.entries(label2id).filter((entry): entry is [string, number] => Number.isInteger(entry[1]));
  return { id2label: Object.fromEntries(names), label2id: Object.fromEntries(ids) };
}

// RoBERTa-family models reserve the first positions after the padding index.
const POSITION_OFFSET: Record<string, number> = { roberta: 2, 'xlm-roberta': 2, camembert: 2 };
// tokenizer_config.json uses a huge sentinel when the limit is "unset".
const UNSET_MAX_LENGTH = 1_000_000;

function countLabels(config: Record<string, unknown>, where: string): number {
  const id2label = config.id2label;
  const numLabels =
    typeof config.num_labels === 'number'
      ? config.num_labels
      : id2label && typeof id2label === 'object'
        ? Object.keys(id2label).length
        : 1;
  if (numLabels !== 1 && numLabels !== 2) {
    throw new ModelRuntimeError(
      'MODEL_OUTPUT_UNSUPPORTED',
      `${where} declares ${numLabels} labels; a cross-encoder must have 1 (relevance logit) or 2 (irrelevant/relevant)`,
    );
  }
  return numLabels;
}

export function describeModel(files: ModelFiles, id?: string): ModelInfo {
  const where = `${files.dir}/config.json`;
  const modelType = typeof files.config.model_type === 'string' ? files.config.model_type : 'bert';
  const limits: number[] = [];
  const positions = files.config.max_position_embeddings;
  if (typeof positions === 'number') limits.push(positions - (POSITION_OFFSET[modelType] ?? 0));
  const declared = files.tokenizerConfig.model_max_length;
  if (typeof declared === 'number' && declared > 0 && declared < UNSET_MAX_LENGTH) limits.push(declared);
  const maxLength = limits.length ? Math.min(...limits) : 512;
  return {
    id: id ?? basename(resolve(files.dir)),
    dir: files.dir,
    onnxPath: files.onnxPath,
    modelType,
    maxLength,
    numLabels: countLabels(files.config, where),
    synthetic: typeof files.config.rerank_pool_synthetic === 'object' && files.config.rerank_pool_synthetic !== null,
    dtype: onnxDtype(files.onnxPath),
    labels: labelsOf(files.config),
  };
}
