import { UnrecoverableError, WaitingError } from 'bullmq';
import type { Job } from 'bullmq';
import type { RedisClient } from '@rerank-pool/redis-connection';
import { decodeJobFailure, Errors, isRerankPoolError } from '@rerank-pool/contracts';
import type { BatchLineRef, RerankJobData, RerankJobResult, RerankPoolError } from '@rerank-pool/contracts';
import { BatchRecords } from './batch-records.js';
import { completedLine, errorLine } from './result-lines.js';

/** What a batch line's job returns once its result is in the batch: the result itself is not kept twice. */
export interface BatchLineReceipt {
  batch: string;
  index: number;
}

export type RerankProcessor<R> = (job: Job<RerankJobData>, token?: string, signal?: AbortSignal) => Promise<R>;

/**
 * Records batch lines' results from the worker that computed them. Settling is one script keyed
 * by the line: the first settle counts, any later one (the same line computed again after a
 * crash between settling and acknowledging) changes nothing.
 */
export class BatchLineSettler {
  private readonly records: BatchRecords;

  constructor(redis: RedisClient, prefix: string) {
    this.records = new BatchRecords(redis, prefix);
  }

  async completed(data: RerankJobData, ref: BatchLineRef, result: RerankJobResult, totalMs: number): Promise<void> {
    const line = completedLine(data, result, ref.line, ref.index, totalMs);
    await this.records.settle(ref.id, { index: ref.index, outcome: 'completed', line, pairs: data.documents.length });
  }

  async failed(ref: BatchLineRef, error: RerankPoolError): Promise<void> {
    await this.records.settle(ref.id, { index: ref.index, outcome: 'failed', line: errorLine(ref.line, ref.index, error), pairs: 0 });
  }

  /**
   * Wraps a BullMQ processor of rerank jobs so batch lines are settled before their jobs are
   * acknowledged. A line is settled failed only by its last attempt (or an error retrying cannot
   * fix); a job handed back on shutdown is not settled at all.
   */
  wrap(processor: RerankProcessor<RerankJobResult>): RerankProcessor<RerankJobResult | BatchLineReceipt> {
    return async (job, token, signal) => {
      const ref = job.data?.batch;
      if (!ref) return processor(job, token, signal);
      let result: RerankJobResult;
      try {
        result = await processor(job, token, signal);
      } catch (error) {
        if (!(error instanceof WaitingError) && !signal?.aborted && isLastAttempt(job, error)) await this.failed(ref, failureOf(error));
        throw error;
      }
      await this.completed(job.data, ref, result, Date.now() - job.timestamp);
      return { batch: ref.id, index: ref.index };
    };
  }
}

function isLastAttempt(job: Job, error: unknown): boolean {
  return error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/** The typed error of a failed attempt: processors throw `UnrecoverableError`s that carry the code in their message. */
function failureOf(error: unknown): RerankPoolError {
  if (isRerankPoolError(error)) return error;
  if (error instanceof UnrecoverableError) return decodeJobFailure(error.message);
  return Errors.internal(`the line failed on its last attempt: ${(error as Error).message ?? String(error)}`, error);
}
