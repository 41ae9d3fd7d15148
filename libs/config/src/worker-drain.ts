/**
 * The default of WORKER_DRAIN_MS: how long a stopping worker lets its active jobs finish before
 * handing them back to the queue. Its own module so the manifest checks can hold grace periods to it.
 */
export const WORKER_DRAIN_MS = 25_000;
