/**
 * Redis keys this library owns beside BullMQ's, all under the BullMQ prefix so one prefix cleans
 * all. Keys a script or transaction touches together with a queue's own hold the queue's name, and
 * so its hash tag (see queue-name.ts): on a Redis Cluster they live in the queue's slot.
 */
export const keys = {
  tombstone: (prefix: string, queueName: string, jobId: string) => `${prefix}:${queueName}:cancelled:${jobId}`,
  heartbeatSet: (prefix: string, queueName: string) => `${prefix}:heartbeats:${queueName}`,
  heartbeat: (prefix: string, queueName: string, workerId: string) => `${prefix}:heartbeats:${queueName}:${workerId}`,
  /** The random secret ids derived from idempotency keys are keyed with (see `IdempotencySecret`). */
  idempotencySecret: (prefix: string) => `${prefix}:idempotency-secret`,
  /** Sorted set of a tenant's jobs of one queue not yet started: BullMQ job key -> enqueue time (ms). */
  tenantQueued: (queueQualifiedName: string, tenant: string) => `${queueQualifiedName}:tenants:${tenant}:queued`,
  /** Present while a sweep of `tenantQueued` is fresh (set with PX). */
  tenantQueuedSwept: (queueQualifiedName: string, tenant: string) => `${queueQualifiedName}:tenants:${tenant}:queued-swept`,
  /** Present once a job's cancellation was asked for: a worker that picks the job up later sees it. */
  cancelRequested: (prefix: string, queueName: string, jobId: string) => `${prefix}:${queueName}:cancel-requested:${jobId}`,
  /** Pub/sub channel telling workers which running job to stop. */
  cancelChannel: (prefix: string) => `${prefix}:cancel-requests`,
  /** Hash of a queue's jobs not yet started: job id -> `pairs:priorityClass:addedAtMs` (see pending-pairs.ts). */
  pendingPairs: (queueQualifiedName: string) => `${queueQualifiedName}:pending-pairs`,
  /** Hash of a queue's pending pairs per priority class: the sums of `pendingPairs`' entries. */
  pendingPairsTotal: (queueQualifiedName: string) => `${queueQualifiedName}:pending-pairs-total`,
  /** Where the reconcile of `pendingPairs` resumes its HSCAN. */
  pendingPairsCursor: (queueQualifiedName: string) => `${queueQualifiedName}:pending-pairs-cursor`,
  /** Present while a reconcile step of `pendingPairs` is fresh (set with PX). */
  pendingPairsReconciled: (queueQualifiedName: string) => `${queueQualifiedName}:pending-pairs-reconciled`,
};
