export { BATCHER_DEFAULTS, BatcherError, type DynamicBatcherOptions, type Priority, type ResolvedBatcherOptions } from './batcher-options.js';
export { DynamicBatcher, type BatchPlan, type BatchRunner, type BatchStats, type BatcherEvents, type SubmitOptions } from './dynamic-batcher.js';
