import type { RedisTarget } from '@rerank-pool/redis-connection';
import { withoutUndefined } from './without-undefined.js';

export interface RerankQueueOptions {
  /**
   * Where Redis is (see `redisTarget`, `redisOptionsFromUrl`): one server, a Sentinel group or a
   * cluster. Commands run on one connection with `requestRedisOptions` (they fail fast while Redis
   * is unreachable); results are followed on a blocking one of BullMQ's.
   */
  connection: RedisTarget;
  /** BullMQ key prefix. Default `rerank-pool`. */
  prefix?: string;
  /** Tries per job before it fails (crashes and transient errors are retried). Default 3. */
  attempts?: number;
  /** First retry delay; doubles each attempt. Default 1000 ms. */
  backoffMs?: number;
  /** Finished jobs, idempotency keys and cancel tombstones are kept this long. Default 86400 s. */
  retentionSeconds?: number;
  /** Webhook delivery tries. Default 5. */
  webhookAttempts?: number;
  /** First webhook retry delay; doubles each attempt. Default 1000 ms. */
  webhookBackoffMs?: number;
  /**
   * How long one reading of the queue depth serves the 429 check (`admissionDepth`), plus the
   * jobs this instance adds meanwhile; two Redis scripts per request otherwise. Default 100 ms.
   */
  admissionReadTtlMs?: number;
  /**
   * Result waits still pending this long after Redis became unreachable are answered
   * `unavailable` (the job may still finish; it can be polled). Default 2000 ms.
   */
  outageGraceMs?: number;
  /**
   * Jobs of one tenant not yet started in this model's queue, above which `enqueue` refuses that
   * tenant's jobs with `overloaded` (TENANT_MAX_QUEUED_JOBS; see `TenantQueuedJobs`). 0, the
   * default, sets no cap.
   */
  tenantMaxQueuedJobs?: number;
  /**
   * Replicas that must hold a job before `enqueue` with `confirmReplicated` returns
   * (REDIS_WAIT_REPLICAS; see `ReplicationBarrier`). 0, the default: none is waited for.
   */
  waitReplicas?: number;
  /** How long that wait may take (REDIS_WAIT_TIMEOUT_MS). Default 1000 ms. */
  waitTimeoutMs?: number;
}

export type FilledRerankQueueOptions = Required<RerankQueueOptions>;

export const RERANK_QUEUE_DEFAULTS = {
  prefix: 'rerank-pool',
  attempts: 3,
  backoffMs: 1000,
  retentionSeconds: 86_400,
  webhookAttempts: 5,
  webhookBackoffMs: 1000,
  admissionReadTtlMs: 100,
  outageGraceMs: 2000,
  tenantMaxQueuedJobs: 0,
  waitReplicas: 0,
  waitTimeoutMs: 1000,
} satisfies Omit<FilledRerankQueueOptions, 'connection'>;

/** Interactive requests are served before batch ones (BullMQ: a lower number runs first). */
export const PRIORITY = { interactive: 1, batch: 10 } as const;

/**
 * Lines of offline batches (`/v1/batches`) carry `priority: 'batch'` like async jobs, but have a
 * queue of their own (`lineQueueNameForModel`). Their BullMQ priority number only tells them apart
 * in counts by priority class (`batch_line`), read with the same scripts as the model queue's.
 */
export const BATCH_LINE_PRIORITY = 20;

export function fillRerankQueueOptions(options: RerankQueueOptions): FilledRerankQueueOptions {
  const filled = { ...RERANK_QUEUE_DEFAULTS, ...withoutUndefined(options) } as FilledRerankQueueOptions;
  for (const field of ['attempts', 'retentionSeconds', 'webhookAttempts'] as const) {
    if (!Number.isInteger(filled[field]) || filled[field] < 1) throw new TypeError(`${field} must be a positive integer, got ${filled[field]}`);
  }
  if (!Number.isInteger(filled.tenantMaxQueuedJobs) || filled.tenantMaxQueuedJobs < 0) {
    throw new TypeError(`tenantMaxQueuedJobs must be a non-negative integer, got ${filled.tenantMaxQueuedJobs}`);
  }
  for (const field of ['backoffMs', 'webhookBackoffMs', 'admissionReadTtlMs', 'outageGraceMs'] as const) {
    if (!Number.isFinite(filled[field]) || filled[field] < 0) throw new TypeError(`${field} must be a non-negative number, got ${filled[field]}`);
  }
  if (filled.prefix === '') throw new TypeError('prefix must not be empty');
  return filled;
}
