import { WORKER_DRAIN_MS } from '@rerank-pool/config';

/** The worker's SIGTERM drain in seconds: grace periods in the manifests must exceed it. */
export const WORKER_DRAIN_SECONDS = WORKER_DRAIN_MS / 1000;
