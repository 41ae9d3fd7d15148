/**
 * The worker's SIGTERM drain timeout: apps/worker's WORKER_DEFAULTS.drainTimeoutMs (25 000 ms),
 * repeated here because libraries never import apps. Grace periods in the manifests must exceed it.
 */
export const WORKER_DRAIN_SECONDS = 25;
