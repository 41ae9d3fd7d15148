import { createHmac, randomBytes } from 'node:crypto';

const BATCH_ID = /^bat-[0-9a-f]{32}$/;

/** A fresh batch id. */
export function newBatchId(): string {
  return `bat-${randomBytes(16).toString('hex')}`;
}

/**
 * The batch id for an idempotency key: an HMAC of tenant and key under the deployment's secret
 * (`IdempotencySecret` of @rerank-pool/queue), so tenants' keys never meet, a re-sent upload lands
 * on the same batch on any replica, and nobody without the secret can compute a batch's id.
 */
export function idempotentBatchId(secret: Buffer, tenant: string, idempotencyKey: string): string {
  const digest = createHmac('sha256', secret).update('batch\0').update(tenant).update('\0').update(idempotencyKey).digest('hex');
  return `bat-${digest.slice(0, 32)}`;
}

export function isBatchId(value: string): boolean {
  return BATCH_ID.test(value);
}

/**
 * A line's job id is derived, not stored: `<batch id>-<index>`. The line -> job mapping then
 * costs nothing, a feed repeated after a crash re-adds the same ids (BullMQ ignores ids it has),
 * and the reconciler can look a line's job up. No ':' (BullMQ refuses it in custom ids unless it
 * looks like a repeatable job's three-part id).
 */
export function lineJobId(batchId: string, index: number): string {
  return `${batchId}-${index}`;
}
