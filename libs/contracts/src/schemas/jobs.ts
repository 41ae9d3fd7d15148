import { rerankMetaSchema, rerankResultSchema, rerankV1RequestSchema } from './rerank.js';
import type { RerankMeta, RerankRequest, RerankResult } from './rerank.js';

export const JOB_STATUSES = ['queued', 'active', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const createJobRequestSchema = {
  type: 'object',
  required: ['query', 'documents'],
  additionalProperties: false,
  properties: {
    ...rerankV1RequestSchema.properties,
    idempotency_key: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      description: 'Requests with the same key (per tenant) return the same job and are computed once',
    },
    callback_url: {
      type: 'string',
      pattern: '^https?://',
      maxLength: 2048,
      description: 'POSTed the job status when it finishes, at least once, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)',
    },
  },
} as const;

export const jobAcceptedSchema = {
  type: 'object',
  required: ['id', 'status', 'status_url'],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: JOB_STATUSES },
    status_url: { type: 'string' },
  },
} as const;

export const jobParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

export const jobStatusSchema = {
  type: 'object',
  required: ['id', 'status', 'progress', 'created_at'],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: JOB_STATUSES },
    progress: { type: 'number', minimum: 0, maximum: 1, description: 'Fraction of the work done' },
    result: {
      type: 'object',
      properties: { results: { type: 'array', items: rerankResultSchema }, meta: rerankMetaSchema },
    },
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
    },
    created_at: { type: 'string', format: 'date-time' },
    finished_at: { type: 'string', format: 'date-time' },
  },
} as const;

export interface CreateJobRequest extends RerankRequest {
  idempotency_key?: string;
  callback_url?: string;
}

export interface JobAccepted {
  id: string;
  status: JobStatus;
  status_url: string;
}

export interface JobStatusBody {
  id: string;
  status: JobStatus;
  progress: number;
  result?: { results: RerankResult[]; meta: RerankMeta };
  error?: { code: string; message: string; field?: string };
  created_at: string;
  finished_at?: string;
}
