import type { JobsOptions, Queue } from 'bullmq';
import type { RedisClient } from '@rerank-pool/redis-connection';
import type { RerankJobData } from '@rerank-pool/contracts';
import { addPendingPairs, BATCH_LINE_PRIORITY, rerankJobName, takePendingPairs } from '@rerank-pool/queue';
import { lineJobId } from './batch-ids.js';
import { execOrThrow } from './batch-records.js';
import type { FilledBatchOptions } from './batch-options.js';

/** Jobs removed per round: each is a script on Redis. */
const REMOVE_CONCURRENCY = 200;

/**
 * The jobs of batch lines in the models' line queues (`lineQueueNameForModel`): adding them, finding the ones that are gone,
 * removing the ones not started. A line's job id is derived from its batch and index, so none
 * of this needs a stored mapping.
 */
export class LineJobs {
  constructor(
    private readonly redis: RedisClient,
    private readonly queueFor: (model: string) => Queue,
    private readonly models: readonly string[],
    private readonly options: Pick<FilledBatchOptions, 'attempts' | 'backoffMs'>,
  ) {}

  /**
   * Adds the jobs, one `addBulk` per model. Jobs are removed as soon as they finish: the worker
   * has put the line's result in the batch by then, and a finished line must not hold Redis.
   */
  async add(batchId: string, jobs: readonly { index: number; data: RerankJobData }[]): Promise<void> {
    const byModel = new Map<string, { name: string; data: RerankJobData; opts: JobsOptions }[]>();
    for (const { index, data } of jobs) {
      const list = byModel.get(data.model) ?? [];
      list.push({ name: rerankJobName(data.tenant), data, opts: this.jobOptions(batchId, index) });
      byModel.set(data.model, list);
    }
    await Promise.all(
      [...byModel].map(async ([model, list]) => {
        const queue = this.queueFor(model);
        const counted = list.map(({ data, opts }) => ({ jobId: opts.jobId!, pairs: data.documents.length, priorityClass: 'batch_line' }));
        // Counted before the add, as RerankQueue.enqueue does; taken back when the add fails.
        await addPendingPairs(this.redis, queue.qualifiedName, counted);
        try {
          await queue.addBulk(list);
        } catch (error) {
          await takePendingPairs(this.redis, queue.qualifiedName, counted.map(({ jobId }) => jobId)).catch(() => undefined);
          throw error;
        }
      }),
    );
  }

  /** Of `indexes`, the lines with no job in any model's line queue. */
  async missing(batchId: string, indexes: readonly number[]): Promise<number[]> {
    if (indexes.length === 0) return [];
    // One round trip per line queue: on a cluster each model's keys are in a slot of their own.
    const found = await Promise.all(
      this.models.map((model) => {
        const queue = this.queueFor(model);
        const pipeline = this.redis.pipeline();
        for (const index of indexes) pipeline.exists(queue.toKey(lineJobId(batchId, index)));
        return execOrThrow(pipeline) as Promise<number[]>;
      }),
    );
    return indexes.filter((_, i) => found.every((replies) => replies[i] === 0));
  }

  /** Removes the jobs of `indexes` that have not started; returns the lines removed. A running job is locked and stays. */
  async removeWaiting(batchId: string, indexes: readonly number[]): Promise<number[]> {
    const removed: number[] = [];
    const queues = this.models.map((model) => this.queueFor(model));
    for (let i = 0; i < indexes.length; i += REMOVE_CONCURRENCY) {
      const slice = indexes.slice(i, i + REMOVE_CONCURRENCY);
      const results = await Promise.all(slice.map(async (index) => {
        const jobId = lineJobId(batchId, index);
        for (const queue of queues) {
          if ((await queue.remove(jobId)) !== 1) continue;
          // Not taken (Redis failed just now), the pending-pairs reconcile drops the entry.
          await takePendingPairs(this.redis, queue.qualifiedName, [jobId]).catch(() => undefined);
          return true;
        }
        return false;
      }));
      slice.forEach((index, k) => results[k] && removed.push(index));
    }
    return removed;
  }

  private jobOptions(batchId: string, index: number): JobsOptions {
    return {
      jobId: lineJobId(batchId, index),
      priority: BATCH_LINE_PRIORITY,
      attempts: this.options.attempts,
      backoff: { type: 'exponential', delay: this.options.backoffMs },
      removeOnComplete: true,
      removeOnFail: true,
    };
  }
}
