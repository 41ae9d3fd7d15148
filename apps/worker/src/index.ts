export { RerankWorker } from './rerank-worker.js';
export { JobScorer } from './job-scorer.js';
export { defaultWorkerId, pinoWorkerLogger, WORKER_DEFAULTS, type RerankWorkerOptions, type WorkerLogger } from './worker-options.js';
