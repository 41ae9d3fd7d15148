/** One unfinished offline batch at scrape time. */
export interface BatchProgress {
  batchId: string;
  /** `queued`, `running` or `finalizing` (the batch status of the API). */
  status: string;
  /** Lines with a result (completed, failed or cancelled). */
  settledLines: number;
  /** Lines in the batch so far (final once its input is complete). */
  totalLines: number;
}

/** Reads the unfinished batches (API processes that drive batches register one). */
export type BatchProgressSource = () => Promise<BatchProgress[]>;

/** Whether this process's queue Redis answers now; false or a rejection both read as down. */
export type RedisProbe = () => Promise<boolean>;

/** A model a worker has loaded, with the weight type of its ONNX file (`float32`, `int8`, ...). */
export interface LoadedModel {
  model: string;
  dtype: string;
}

export type LoadedModelSource = () => LoadedModel[];

/**
 * Webhook delivery outcomes: an attempt `delivered` (2xx) or `failed`; `given_up` counts the
 * failed attempts that were the last, so it is a subset of `failed` (outcomes never delivered).
 */
export const WEBHOOK_OUTCOMES = ['delivered', 'failed', 'given_up'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];
