/**
 * How long a stopping worker lets its active jobs finish before handing them back to the queue.
 * Here, not in apps/worker, so the manifest checks can hold grace periods to it.
 */
export const WORKER_DRAIN_MS = 25_000;
