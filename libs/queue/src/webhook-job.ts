/** The queue of webhook deliveries, shared by all models. */
export const WEBHOOK_QUEUE_NAME = 'webhooks';

export interface WebhookJobData {
  /** The rerank job whose outcome is delivered. */
  jobId: string;
  queueName: string;
  callbackUrl: string;
  /** Set at the first attempt so every retry sends (and signs) the same bytes. */
  body?: string;
}
