import { rerankV1RequestSchema } from './rerank.js';
import type { RerankFields, RerankMeta, RerankResult } from './rerank.js';

/**
 * Offline batches (`/v1/batches`): many rerank requests in one upload, a JSON array or NDJSON
 * (one request per line). Each line is validated like a `/v1/rerank` body; a bad line becomes
 * that line's error in the results instead of failing the batch.
 */
export const BATCH_STATUSES = ['queued', 'running', 'finalizing', 'completed', 'cancelled'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export const BATCH_NDJSON_TYPE = 'application/x-ndjson';

const { model, query, documents, top_n, return_documents, return_signals, max_tokens_per_doc, max_chunks_per_doc, cache } = rerankV1RequestSchema.properties;

export const batchLineSchema = {
  type: 'object',
  required: ['query', 'documents'],
  additionalProperties: false,
  properties: {
    id: {
      anyOf: [
        { type: 'string', minLength: 1, maxLength: 256 },
        { type: 'integer' },
      ],
      description: 'Carried back in the results; defaults to the line number (1-based)',
    },
    model,
    query,
    documents,
    top_n,
    return_documents,
    return_signals,
    max_tokens_per_doc,
    max_chunks_per_doc,
    cache,
  },
} as const;

/**
 * A batch by reference (`POST /v1/batches` with a JSON object): the input is read from a store
 * URL and never passes through the API; the results are written to `output_url` when given.
 */
export const batchReferenceSchema = {
  type: 'object',
  required: ['input_url'],
  additionalProperties: false,
  properties: {
    input_url: {
      type: 'string',
      minLength: 1,
      maxLength: 2048,
      description: 'NDJSON of rerank requests (as uploaded lines): file:///… or s3://bucket/key, inside BATCH_URL_PREFIXES',
    },
    output_url: {
      type: 'string',
      minLength: 1,
      maxLength: 2048,
      description: 'Where the results NDJSON is written once the batch finishes (file:///… or s3://bucket/key); also served by GET …/results',
    },
  },
} as const;

export interface BatchReference {
  input_url: string;
  output_url?: string;
}

export const batchQuerySchema = {
  type: 'object',
  properties: {
    idempotency_key: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      description: 'Same key (per tenant) -> same batch; an interrupted upload re-sent with it continues where it stopped',
    },
  },
} as const;

export const batchParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

export const batchAcceptedSchema = {
  type: 'object',
  required: ['id', 'status', 'total', 'status_url', 'results_url'],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: BATCH_STATUSES },
    total: { type: 'integer', description: 'Lines accepted (valid or not)' },
    status_url: { type: 'string' },
    results_url: { type: 'string' },
  },
} as const;

export const batchStatusSchema = {
  type: 'object',
  required: ['id', 'status', 'total', 'completed', 'failed', 'cancelled', 'pairs', 'created_at'],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: BATCH_STATUSES },
    total: { type: 'integer', description: 'Lines in the batch (for a batch by reference: counted so far, final once its status leaves queued)' },
    completed: { type: 'integer', description: 'Lines scored' },
    failed: { type: 'integer', description: 'Lines that failed, including those rejected at upload' },
    cancelled: { type: 'integer', description: 'Lines removed by a cancel before they ran' },
    pairs: {
      type: 'object',
      required: ['total', 'completed'],
      properties: {
        total: { type: 'integer', description: '(query, document) pairs of the valid lines read so far (lines are read as the batch runs)' },
        completed: { type: 'integer', description: 'Pairs of the completed lines' },
      },
    },
    created_at: { type: 'string', format: 'date-time' },
    finished_at: { type: 'string', format: 'date-time', description: 'Set once every line has finished and the results are written; results are served from then' },
    input_url: { type: 'string', description: 'The input of a batch by reference' },
    output_url: { type: 'string', description: 'Where the results of a batch by reference are written' },
    error: { type: 'string', description: 'Why the input could not be read or the output not written, when that happened' },
  },
} as const;

/** One line of a batch upload. */
export interface BatchLine extends RerankFields {
  id?: string | number;
}

export interface BatchAccepted {
  id: string;
  status: BatchStatus;
  total: number;
  status_url: string;
  results_url: string;
}

export interface BatchStatusBody {
  id: string;
  status: BatchStatus;
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  pairs: { total: number; completed: number };
  created_at: string;
  finished_at?: string;
  input_url?: string;
  output_url?: string;
  error?: string;
}

/** One line of `GET /v1/batches/:id/results` (NDJSON, input order): results or the line's error. */
export type BatchResultLine =
  | { id: string | number; index: number; results: RerankResult[]; meta: RerankMeta }
  | { id: string | number; index: number; error: { code: string; message: string; field?: string } };
