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
  };
}
