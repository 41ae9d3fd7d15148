import type { SerializedRuntimeError } from './errors.js';
import type { ExecutionProvider } from './execution-provider.js';
import type { PairEncodeOptions } from './pair-encoder.js';

/** What every pool thread is started with (cloned once per thread). */
export interface ThreadSetup {
  modelDir: string;
  onnxPath: string;
  maxLength: number;
  numLabels: number;
  executionProvider: ExecutionProvider;
  intraOpThreads: number;
}

export interface DescribeTask {
  kind: 'describe';
}

export interface EncodeTask {
  kind: 'encode';
  query: string;
  documents: string[];
  options: PairEncodeOptions;
}

/** `rows` is a packed-pairs buffer, transferred to the thread. */
export interface InferTask {
  kind: 'infer';
  rows: ArrayBuffer;
}

export type PoolTask = DescribeTask | EncodeTask | InferTask;

export interface ThreadDescription {
  executionProvider: ExecutionProvider;
  fallbackReason?: string;
  inputNames: string[];
}

/** Failures that belong to the caller (bad model, bad input) come back as data, not exceptions. */
export interface TaskFailure {
  error: SerializedRuntimeError;
}
