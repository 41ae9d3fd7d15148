import { availableParallelism } from 'node:os';
import { DEFAULT_BATCH_BUDGET } from './batch-planner.js';
import { ModelRuntimeError } from './errors.js';
import { isExecutionProvider, type ExecutionProvider } from './execution-provider.js';

export interface InferencePoolOptions {
  /** Model directory in the Hugging Face layout. Required. */
  modelDir: string;
  /** Id reported for the model. Default: the directory's name. */
  modelId?: string;
  /** ONNX variant, `onnx/model_<variant>.onnx`. Default: `model.onnx` or `onnx/model.onnx`. */
  variant?: string;
  /** Threads of the interactive lane, each with its own InferenceSession. Default: see DEFAULT_THREADS. */
  threads?: number;
  /** Threads of the batch lane (see InferencePool), started on demand. Default: `threads`. */
  batchThreads?: number;
  /**
   * Nice value (0-19) of the batch lane's threads. Default 10: a runnable nice-0 thread then gets
   * about 9 of every 10 time slices on a core it shares with one (Linux CFS weights 1024 and 110).
   */
  batchNice?: number;
  /** onnxruntime intra-op threads per session. Default: cores / threads, at least 1. */
  intraOpThreads?: number;
  /** Default `cpu`; `cuda` falls back to `cpu` with a warning when it cannot start. */
  executionProvider?: ExecutionProvider;
  /** Longest pair in tokens, special tokens included. Default: the model's own limit. */
  maxLength?: number;
  /** Token budget (rows x padded length) of one inference batch. Default 2048 (measured, see README). */
  maxBatchTokens?: number;
  /** Row cap of one inference batch. Default 128. */
  maxBatchRows?: number;
  /** Real / padded tokens below which a batch is closed early (see planBatches). Default 0.95. */
  minPaddingEfficiency?: number;
  /** Receives runtime warnings (CUDA fallback). Default: process.emitWarning. */
  onWarning?: (message: string) => void;
}

/** The threads a task runs on: see InferencePool. */
export const POOL_LANES = ['interactive', 'batch'] as const;
export type PoolLane = (typeof POOL_LANES)[number];

/** How long batch-lane threads outlive the last batch work: a session loads in 0.1-2 s, a batch's lines keep coming for minutes. */
export const BATCH_LANE_IDLE_MS = 60_000;

const DEFAULT_BATCH_NICE = 10;

export type ResolvedPoolOptions = Required<Omit<InferencePoolOptions, 'modelId' | 'variant' | 'maxLength'>> &
  Pick<InferencePoolOptions, 'modelId' | 'variant' | 'maxLength'>;

/**
 * Measured on 2 cores (see README, Performance): two single-threaded sessions beat one
 * session with two intra-op threads on batched throughput, because the batcher always has
 * another batch ready and per-op thread synchronisation is pure overhead for small ops.
 */
export const DEFAULT_THREADS = Math.max(1, availableParallelism());

export const POOL_DEFAULTS = {
  executionProvider: 'cpu' as ExecutionProvider,
  ...DEFAULT_BATCH_BUDGET,
};

function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new ModelRuntimeError('INVALID_OPTION', `${name} must be a positive integer, got ${value}`);
  }
}

export function resolvePoolOptions(options: InferencePoolOptions): ResolvedPoolOptions {
  if (typeof options.modelDir !== 'string' || options.modelDir.length === 0) {
    throw new ModelRuntimeError('INVALID_OPTION', 'modelDir must name a model directory');
  }
  for (const name of ['threads', 'batchThreads', 'intraOpThreads', 'maxLength', 'maxBatchTokens', 'maxBatchRows'] as const) {
    positiveInteger(name, options[name]);
  }
  if (options.batchNice !== undefined && !(Number.isInteger(options.batchNice) && options.batchNice >= 0 && options.batchNice <= 19)) {
    throw new ModelRuntimeError('INVALID_OPTION', `batchNice must be an integer from 0 to 19, got ${options.batchNice}`);
  }
  const efficiency = options.minPaddingEfficiency;
  if (efficiency !== undefined && !(efficiency >= 0 && efficiency <= 1)) {
    throw new ModelRuntimeError('INVALID_OPTION', `minPaddingEfficiency must be between 0 and 1, got ${efficiency}`);
  }
  if (options.executionProvider !== undefined && !isExecutionProvider(options.executionProvider)) {
    throw new ModelRuntimeError('INVALID_OPTION', `executionProvider must be cpu or cuda, got ${String(options.executionProvider)}`);
  }
  const threads = options.threads ?? DEFAULT_THREADS;
  return {
    ...POOL_DEFAULTS,
    onWarning: (message) => process.emitWarning(message, 'RerankPoolWarning'),
    ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)),
    threads,
    batchThreads: options.batchThreads ?? threads,
    batchNice: options.batchNice ?? DEFAULT_BATCH_NICE,
    intraOpThreads: options.intraOpThreads ?? Math.max(1, Math.floor(availableParallelism() / threads)),
  } as ResolvedPoolOptions;
}
