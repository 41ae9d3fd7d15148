export { RerankWorker, workerStopBoundMs } from './rerank-worker.js';
export { pinoWorkerLogger, WORKER_DEFAULTS, type RerankWorkerOptions, type WorkerLogger } from './worker-options.js';
