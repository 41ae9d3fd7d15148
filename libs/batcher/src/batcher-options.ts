import { DEFAULT_BATCH_BUDGET, POOL_LANES, type PoolLane } from '@rerank-pool/model-runtime';

/** Which lane of the pool a batcher's rows run on. */
export type Priority = PoolLane;

export class BatcherError extends Error {
  readonly code: 'BATCHER_INVALID_OPTION' | 'BATCHER_CLOSED' | 'BATCHER_ABORTED';

  constructor(code: BatcherError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BatcherError';
    this.code = code;
  }
}

export interface DynamicBatcherOptions {
  /** Upper bound on rows x padded length of one batch. Default 2048. */
  maxBatchTokens?: number;
  /** Upper bound on rows in one batch. Default 128. */
  maxBatchRows?: number;
  /**
   * How long a batch that is not yet full may wait for more rows while the runner has a free
   * slot. Default 5 ms: long enough to merge concurrent requests, short next to inference.
   */
  maxWaitMs?: number;
  /**
   * Batches handed to the runner at once. Default 4 (the worker passes 2x its threads, so a
   * thread that finishes finds its next batch already queued).
   */
  maxInflight?: number;
  /** Logits per row of the model (1 or 2). Default 1. */
  numLabels?: number;
  /**
   * Real / padded tokens below which a batch is closed early. Default 0.95: padding is
   * computed for nothing, and the long tail of passage lengths would otherwise pad short rows
   * up to the longest one.
   */
  minPaddingEfficiency?: number;
  /**
   * Threads the runner has. When some stand idle and too few batches are ready to occupy them,
   * batches are split so a lone request runs on every thread: its latency, not throughput,
   * is what matters then. Default 1.
   */
  parallelism?: number;
  /**
   * Tasks running or waiting on the runner's threads now, this batcher's batches included (an
   * InferencePool's `activeTasks` of its lane): tokenization shares the threads, so a thread
   * that tokenizes is not idle. Default: this batcher's own batches in flight.
   */
  threadTasks?: () => number;
  /** The lane this batcher feeds, told to its runner and in its batch statistics. Default `interactive`. */
  priority?: Priority;
}

export type ResolvedBatcherOptions = Required<DynamicBatcherOptions>;

export const BATCHER_DEFAULTS: ResolvedBatcherOptions = {
  ...DEFAULT_BATCH_BUDGET,
  maxWaitMs: 5,
  maxInflight: 4,
  numLabels: 1,
  parallelism: 1,
  threadTasks: () => 0,
  priority: 'interactive',
};

export function resolveBatcherOptions(options: DynamicBatcherOptions): ResolvedBatcherOptions {
  const resolved = { ...BATCHER_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  for (const name of ['maxBatchTokens', 'maxBatchRows', 'maxInflight', 'numLabels', 'parallelism'] as const) {
    if (!Number.isInteger(resolved[name]) || resolved[name] < 1) {
      throw new BatcherError('BATCHER_INVALID_OPTION', `${name} must be a positive integer, got ${resolved[name]}`);
    }
  }
  if (!POOL_LANES.includes(resolved.priority)) {
    throw new BatcherError('BATCHER_INVALID_OPTION', `priority must be ${POOL_LANES.join(' or ')}, got ${String(resolved.priority)}`);
  }
  if (!Number.isFinite(resolved.maxWaitMs) || resolved.maxWaitMs < 0) {
    throw new BatcherError('BATCHER_INVALID_OPTION', `maxWaitMs must be a number >= 0, got ${resolved.maxWaitMs}`);
  }
  if (typeof resolved.threadTasks !== 'function') {
    throw new BatcherError('BATCHER_INVALID_OPTION', `threadTasks must be a function, got ${typeof resolved.threadTasks}`);
  }
  if (!(resolved.minPaddingEfficiency >= 0 && resolved.minPaddingEfficiency <= 1)) {
    throw new BatcherError('BATCHER_INVALID_OPTION', `minPaddingEfficiency must be between 0 and 1, got ${resolved.minPaddingEfficiency}`);
  }
  return resolved;
}
