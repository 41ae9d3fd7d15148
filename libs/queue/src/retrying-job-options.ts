import type { JobsOptions } from 'bullmq';

export interface RetryPolicy {
  attempts: number;
  /** First retry delay; doubles each attempt. */
  backoffMs: number;
  /** Finished jobs are removed after this long. */
  retentionSeconds: number;
}

/** BullMQ options of every job this library adds: retried with exponential backoff, removed by age. */
export function retryingJobOptions(jobId: string, policy: RetryPolicy, priority?: number): JobsOptions {
  const age = policy.retentionSeconds;
  return {
    jobId,
    ...(priority === undefined ? {} : { priority }),
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: policy.backoffMs },
    removeOnComplete: { age },
    removeOnFail: { age },
  };
}
