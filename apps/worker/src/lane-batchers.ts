import { DynamicBatcher, type Priority } from '@rerank-pool/batcher';
import type { Config } from '@rerank-pool/config';
import type { InferencePool } from '@rerank-pool/model-runtime';
import { tracedBatchRunner } from './batch-runner.js';

/** One batcher per lane of a model's pool: interactive rows and batch rows never share a batch. */
export type LaneBatchers = Record<Priority, DynamicBatcher>;

export function laneBatchers(model: string, pool: InferencePool, config: Pick<Config, 'maxBatchTokens' | 'maxBatchWaitMs'>): LaneBatchers {
  const batcher = (lane: Priority) =>
    new DynamicBatcher(tracedBatchRunner(model, pool, lane), {
      priority: lane,
      maxBatchTokens: config.maxBatchTokens,
      maxWaitMs: config.maxBatchWaitMs,
      // A thread that finishes finds its next batch already queued.
      maxInflight: pool.laneThreads(lane) * 2,
      parallelism: pool.laneThreads(lane),
      numLabels: pool.model.numLabels,
      threadTasks: () => pool.activeTasks(lane),
    });
  return { interactive: batcher('interactive'), batch: batcher('batch') };
}
