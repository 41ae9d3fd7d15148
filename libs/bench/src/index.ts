export { generateWorkload, countPairs, passageWords, type WorkloadOptions, type RerankRequest } from './workload.js';
export { runBareLoop, type BareLoopOptions, type LoopResult } from './bare-loop.js';
export { driveHttpLoad, type HttpLoadOptions, type HttpLoadResult } from './http-load.js';
export { median, percentile } from './percentiles.js';
export { driveBatch, type BatchLoadOptions, type BatchLoadResult } from './batch-load.js';
export { rankAgreement, spearman, topKOverlap, averageRanks, topK, type RankAgreement } from './rank-agreement.js';
export { driveMixedLoad, type MixedLoadOptions, type MixedLoadResult } from './mixed-load.js';
