import type { RedisOptions } from 'ioredis';
import { withoutUndefined } from './without-undefined.js';

export interface BatchQueueOptions {
  /** Redis connection options (see `redisOptionsFromUrl`). */
  connection: RedisOptions;
  /** Model ids whose queues batch lines may go to; the tracker follows their events. */
  models: readonly string[];
  /** BullMQ key prefix, the same as the rerank queues'. Default `rerank-pool`. */
  prefix?: string;
  /** A finished batch (status, results) is kept this long; so is an abandoned upload. Default 86400 s. */
  retentionSeconds?: number;
  /** Tries per line before it fails. Default 3. */
  attempts?: number;
  /** First retry delay of a line; doubles each attempt. Default 1000 ms. */
  backoffMs?: number;
  /** Most lines one batch may hold (413 above). Default 1,000,000. */
  maxLines?: number;
  /** Lines enqueued per Redis round trip (BullMQ addBulk). Default 500. */
  chunkSize?: number;
  /** A chunk is also written once its lines hold this many characters, so long lines never pile up in memory. Default 4,000,000. */
  chunkChars?: number;
  /** An upload holds its batch this long past its last chunk; then a re-sent upload may take over. Default 30000 ms. */
  uploadLeaseMs?: number;
  /** Longest wait of one tracker read on the queues' event streams. Default 1000 ms. */
  trackerBlockMs?: number;
}

export type FilledBatchQueueOptions = Required<Omit<BatchQueueOptions, 'models'>> & { models: readonly string[] };

export const BATCH_QUEUE_DEFAULTS = {
  prefix: 'rerank-pool',
  retentionSeconds: 86_400,
  attempts: 3,
  backoffMs: 1000,
  maxLines: 1_000_000,
  // Measured with BullMQ addBulk alone on 20,000 short jobs: 10,454 jobs/s in chunks of 500,
  // 10,863 in chunks of 2,000. Redis' per-job script dominates, so small chunks cost nothing
  // and keep each MULTI (which blocks Redis for other clients) short.
  chunkSize: 500,
  // 500 lines at the request limits (1000 documents x 20000 characters) would be 10 GB; this
  // bounds a chunk (and the one being written beside it) to a few MB of text.
  chunkChars: 4_000_000,
  uploadLeaseMs: 30_000,
  trackerBlockMs: 1000,
} satisfies Omit<FilledBatchQueueOptions, 'connection' | 'models'>;

export function fillBatchQueueOptions(options: BatchQueueOptions): FilledBatchQueueOptions {
  const filled = { ...BATCH_QUEUE_DEFAULTS, ...withoutUndefined(options) } as FilledBatchQueueOptions;
  for (const field of ['retentionSeconds', 'attempts', 'maxLines', 'chunkSize', 'chunkChars', 'uploadLeaseMs', 'trackerBlockMs'] as const) {
    if (!Number.isInteger(filled[field]) || filled[field] < 1) throw new TypeError(`${field} must be a positive integer, got ${filled[field]}`);
  }
  if (!Number.isFinite(filled.backoffMs) || filled.backoffMs < 0) throw new TypeError(`backoffMs must be a non-negative number, got ${filled.backoffMs}`);
  if (filled.prefix === '') throw new TypeError('prefix must not be empty');
  if (filled.models.length === 0) throw new TypeError('models must name at least one model');
  // One byte per line records its model (0 = rejected line), so a batch can span 255 models.
  if (filled.models.length > 255) throw new TypeError(`models must name at most 255 models, got ${filled.models.length}`);
  return filled;
}
