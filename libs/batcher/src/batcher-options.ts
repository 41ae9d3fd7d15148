export class BatcherError extends Error {
  readonly code: 'BATCHER_INVALID_OPTION' | 'BATCHER_CLOSED' | 'BATCHER_ABORTED';

  constructor(code: BatcherError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BatcherError';
    this.code = code;
  }
}

export interface DynamicBatcherOptions {
  /** Upper bound on rows x padded length of one batch. Default 8192. */
  maxBatchTokens?: number;
  /** Upper bound on rows in one batch. Default 128. */
  maxBatchRows?: number;
  /**
   * How long a batch that is not yet full may wait for more rows while the runner has a free
   * slot. Default 5 ms: long enough to merge concurrent requests, short next to inference.
   */
  maxWaitMs?: number;
  /**
   * Batches handed to the runner at once. Default 2x the runner's threads, so a thread that
   * finishes finds its next batch already queued instead of waiting for the main thread.
   */
  maxInflight?: number;
  /** Logits per row of the model (1 or 2). Default 1. */
  numLabels?: number;
}

export type ResolvedBatcherOptions = Required<DynamicBatcherOptions>;

export const BATCHER_DEFAULTS: ResolvedBatcherOptions = {
  maxBatchTokens: 8192,
  maxBatchRows: 128,
  maxWaitMs: 5,
  maxInflight: 4,
  numLabels: 1,
};

export function resolveBatcherOptions(options: DynamicBatcherOptions): ResolvedBatcherOptions {
  const resolved = { ...BATCHER_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  for (const name of ['maxBatchTokens', 'maxBatchRows', 'maxInflight', 'numLabels'] as const) {
    if (!Number.isInteger(resolved[name]) || resolved[name] < 1) {
      throw new BatcherError('BATCHER_INVALID_OPTION', `${name} must be a positive integer, got ${resolved[name]}`);
    }
  }
  if (!Number.isFinite(resolved.maxWaitMs) || resolved.maxWaitMs < 0) {
    throw new BatcherError('BATCHER_INVALID_OPTION', `maxWaitMs must be a number >= 0, got ${resolved.maxWaitMs}`);
  }
  return resolved;
}
