import type { WorkerOptions } from 'bullmq';

/** What a consumer of our queues gives BullMQ's Worker for locks, stalls and retries. */
export type WorkerLockOptions = Pick<WorkerOptions, 'lockDuration' | 'lockRenewTime' | 'stalledInterval' | 'maxStalledCount' | 'runRetryDelay'>;

/**
 * Lock timing chosen together, from one number (WORKER_LOCK_MS, `lockMs`):
 * - a live worker renews its locks every quarter of `lockMs`, so only an event loop blocked for
 *   three quarters of it (4.5 s at the 6 s default) makes it lose a job it is still running;
 * - every sixth of `lockMs` one worker of the queue looks for jobs whose lock has expired and
 *   puts them back in the queue. A job's lock outlives its killed worker by at most `lockMs`.
 *   The check runs on one worker at a time (a key that lives one interval), so between two checks
 *   one to two intervals pass: the job is back in the queue within `lockMs * 4/3` (8 s at 6 s).
 * A job's length does not matter: locks are renewed while it runs, however long. A shorter lock
 * buys faster recovery with more renewals (one script per worker each period) and less
 * tolerance of a stalled event loop.
 * - A job whose worker dies a third time is failed as stalled: a job that kills every worker it
 *   reaches must not take the fleet down with it, but one crash and one Redis outage may hit the
 *   same job.
 * - After a failed Redis command the worker tries again after a second, not BullMQ's 15 s: work
 *   resumes within about a second of Redis coming back.
 */
export function workerLockOptions(lockMs: number): WorkerLockOptions {
  return {
    lockDuration: lockMs,
    lockRenewTime: Math.floor(lockMs / 4),
    stalledInterval: Math.floor(lockMs / 6),
    maxStalledCount: 2,
    runRetryDelay: 1000,
  };
}
