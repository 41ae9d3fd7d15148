import { createHash } from 'node:crypto';

/**
 * The job id for an idempotency key. Hashing tenant and key together keeps tenants' keys apart,
 * keeps ids free of ':' (forbidden in BullMQ custom ids) and of any length limit, and BullMQ
 * ignores an add whose id exists: the same key can never create a second computation.
 */
export function idempotentJobId(tenant: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(tenant).update('\0').update(idempotencyKey).digest('hex');
  return `idem-${digest.slice(0, 40)}`;
}
