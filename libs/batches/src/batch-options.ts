import type { RedisTarget } from '@rerank-pool/redis-connection';
import type { ObjectStore } from '@rerank-pool/object-store';
import { withoutUndefined } from '@rerank-pool/queue';
import type { LineParser } from './line-parser.js';

export interface BatchOptions {
  /** Where Redis is (see `redisTarget` of @rerank-pool/redis-connection): one server, Sentinel or a cluster. */
  connection: RedisTarget;
  /** The batch store (BATCH_STORE_URL): uploaded inputs, results parts, finished results. */
  store: ObjectStore;
  /** Model ids whose queues batch lines may go to. */
  models: readonly string[];
  /** Reads input lines into jobs (the API's validation). */
  parser: LineParser;
  /** BullMQ key prefix, the same as the rerank queues'. Default `rerank-pool`. */
  prefix?: string;
  /** A finished batch (status, results) is kept this long; so is an abandoned upload. Default 86400 s. */
  retentionSeconds?: number;
  /** Tries per line before it fails. Default 3. */
  attempts?: number;
  /** First retry delay of a line; doubles each attempt. Default 1000 ms. */
  backoffMs?: number;
  /** Lines of one batch in Redis at once: queued, running, or settled and not yet in the store. Default 10,000. */
  windowLines?: number;
  /** Input bytes of one batch in Redis at once (the window also stops at `windowLines`). Default 64 MiB. */
  windowBytes?: number;
  /** Most lines one batch may hold (413 above, before anything runs). Default 100,000,000. */
  maxLines?: number;
  /** Longest input line; a longer one becomes that line's error. Default 25 MiB. */
  maxLineBytes?: number;
  /** An upload holds its batch this long without a renewal (renewed every third of it while it runs). Default 30000 ms. */
  uploadLeaseMs?: number;
  /** An input part of an upload is written once it holds this many bytes. Default 8 MiB. */
  partBytes?: number;
  /** ... or this many lines. Default 100,000. */
  partLines?: number;
  /** Lines added to the queues per round trip. Default 500. */
  feedChunkLines?: number;
  /** Most results lines in one results part. Default 5000. */
  resultsPartLines?: number;
  /** Settled results wait at most this long in Redis before they are written to the store. Default 2000 ms. */
  flushIntervalMs?: number;
  /** How often the driver checks the window's unsettled lines for jobs that are gone. Default 5000 ms. */
  reconcileIntervalMs?: number;
  /** A driver holds a batch this long without renewal; then another API process takes it over. Default 10000 ms. */
  driverLeaseMs?: number;
  /** How often a driver looks at its batches (top-up, flush). Default 100 ms. */
  tickMs?: number;
  /** Most batches one process drives at once. Default 32. */
  maxDrivenBatches?: number;
  /** How often store files of expired batches are looked for and deleted. Default 60000 ms. */
  janitorIntervalMs?: number;
  /** URL prefixes that `input_url` and `output_url` may name (BATCH_URL_PREFIXES). Default: the batch store's own location. */
  urlPrefixes?: readonly string[];
  /** Environment with the AWS_* settings for by-reference URLs. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Replicas that must hold a new batch before it is acknowledged (REDIS_WAIT_REPLICAS; see `acknowledge`). Default 0. */
  waitReplicas?: number;
  /** How long that wait may take (REDIS_WAIT_TIMEOUT_MS). Default 1000 ms. */
  waitTimeoutMs?: number;
}

type Defaulted = Omit<BatchOptions, 'connection' | 'store' | 'models' | 'parser' | 'urlPrefixes' | 'env'>;

export type FilledBatchOptions = Required<Defaulted> & Pick<BatchOptions, 'connection' | 'store' | 'models' | 'parser'> & {
  urlPrefixes: readonly string[];
  env: NodeJS.ProcessEnv;
};

export const BATCH_DEFAULTS = {
  prefix: 'rerank-pool',
  retentionSeconds: 86_400,
  attempts: 3,
  backoffMs: 1000,
  windowLines: 10_000,
  windowBytes: 64 * 1024 * 1024,
  maxLines: 100_000_000,
  maxLineBytes: 25 * 1024 * 1024,
  uploadLeaseMs: 30_000,
  waitReplicas: 0,
  waitTimeoutMs: 1000,
  partBytes: 8 * 1024 * 1024,
  partLines: 100_000,
  // Measured with BullMQ addBulk alone on 20,000 short jobs: 10,454 jobs/s in chunks of 500,
  // 10,863 in chunks of 2,000. Redis' per-job script dominates, so small chunks cost nothing
  // and keep each MULTI (which blocks Redis for other clients) short.
  feedChunkLines: 500,
  resultsPartLines: 5000,
  flushIntervalMs: 2000,
  reconcileIntervalMs: 5000,
  driverLeaseMs: 10_000,
  tickMs: 100,
  maxDrivenBatches: 32,
  janitorIntervalMs: 60_000,
} satisfies Required<Defaulted>;

const POSITIVE_INTEGERS = [
  'retentionSeconds',
  'attempts',
  'windowLines',
  'windowBytes',
  'maxLines',
  'maxLineBytes',
  'uploadLeaseMs',
  'partBytes',
  'partLines',
  'feedChunkLines',
  'resultsPartLines',
  'flushIntervalMs',
  'reconcileIntervalMs',
  'driverLeaseMs',
  'tickMs',
  'maxDrivenBatches',
  'janitorIntervalMs',
] as const;

export function fillBatchOptions(options: BatchOptions): FilledBatchOptions {
  const filled = {
    ...BATCH_DEFAULTS,
    urlPrefixes: [options.store.url],
    env: process.env,
    ...withoutUndefined(options),
  } as FilledBatchOptions;
  for (const field of POSITIVE_INTEGERS) {
    if (!Number.isInteger(filled[field]) || filled[field] < 1) throw new TypeError(`${field} must be a positive integer, got ${filled[field]}`);
  }
  if (!Number.isFinite(filled.backoffMs) || filled.backoffMs < 0) throw new TypeError(`backoffMs must be a non-negative number, got ${filled.backoffMs}`);
  if (filled.prefix === '') throw new TypeError('prefix must not be empty');
  if (filled.models.length === 0) throw new TypeError('models must name at least one model');
  if (filled.driverLeaseMs < filled.tickMs * 10) throw new TypeError(`driverLeaseMs (${filled.driverLeaseMs}) must be at least 10 ticks (tickMs ${filled.tickMs})`);
  return filled;
}
