import { createHash } from 'node:crypto';

export interface WebhookJobData {
  /** The rerank job whose outcome is delivered. */
  jobId: string;
  queueName: string;
  callbackUrl: string;
  /** Set at the first attempt so every retry sends (and signs) the same bytes. */
  body?: string;
}

/**
 * The `webhook-id` of every attempt of one webhook job: BullMQ keeps a job's id and creation time
 * through retries and stalled re-runs, so receivers can dedupe on it. Hashed because the job id
 * holds the model's queue name (`%`, and `.`, the separator of the signed content); the creation
 * time keeps two events apart when an idempotency key outlives its job's retention and the same
 * job id comes back. Hex, so it survives case-insensitive stores too.
 */
export function webhookMessageId(webhookJobId: string, createdAt: number): string {
  return `msg_${createHash('sha256').update(`${webhookJobId}\0${createdAt}`).digest('hex').slice(0, 32)}`;
}
