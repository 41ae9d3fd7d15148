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
  /**
   * Nice value the thread gives itself before it loads its session (0 leaves it alone). On Linux
   * a thread's nice value is its own, and onnxruntime's intra-op threads inherit it.
   */
  nice: number;
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
  /** Why the thread could not take its nice value; it runs at the process's priority then. */
  niceFailure?: string;
  inputNames: string[];
}

/** Failures that belong to the caller (bad model, bad input) come back as data, not exceptions. */
export interface TaskFailure {
  error: SerializedRuntimeError;
}
