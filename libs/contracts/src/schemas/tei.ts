import { chunkResultSchema } from './rerank.js';

/**
 * Hugging Face text-embeddings-inference compatible `POST /rerank`, `GET /info` and `GET /health`
 * (TEI's router/src/http/types.rs and router/src/lib.rs). Unknown fields are ignored, as TEI
 * itself does (serde's default).
 */

/** TEI's spellings of `truncation_direction`: the variant names and their lower-case aliases. */
export const TEI_TRUNCATION_DIRECTIONS = ['Left', 'Right', 'left', 'right'] as const;
export type TeiTruncationDirection = (typeof TEI_TRUNCATION_DIRECTIONS)[number];

export const teiRerankRequestSchema = {
  type: 'object',
  required: ['query', 'texts'],
  properties: {
    query: { type: 'string', minLength: 1 },
    // Empty is TEI's own 400 (`empty`), answered by the route, not a schema error (422).
    texts: { type: 'array', items: { type: 'string' } },
    raw_scores: { type: 'boolean', default: false, description: 'Return raw logits instead of 0..1 scores' },
    return_text: { type: 'boolean', default: false },
    truncate: { type: 'boolean', default: false, description: 'false: an over-long input is a 422 error; true: it is cut to the model\'s limit' },
    truncation_direction: {
      type: 'string',
      enum: TEI_TRUNCATION_DIRECTIONS,
      default: 'Right',
      description: 'Which end truncation drops (with truncate: true): Right keeps the beginning of a text, Left keeps its end',
    },
    max_chunks_per_doc: {
      type: 'integer',
      minimum: 1,
      description: 'Not in TEI: score a text longer than the window as up to this many overlapping chunks (best chunk wins; each result then has `chunk`); a text the chunks cover whole is not truncated. At most MAX_CHUNKS_PER_DOC; default 1',
    },
  },
} as const;

export const teiRerankResponseSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['index', 'score'],
    properties: { index: { type: 'integer' }, score: { type: 'number' }, text: { type: 'string' }, chunk: chunkResultSchema },
  },
} as const;

export interface TeiRerankRequest {
  query: string;
  texts: string[];
  raw_scores?: boolean;
  return_text?: boolean;
  truncate?: boolean;
  truncation_direction?: TeiTruncationDirection;
  max_chunks_per_doc?: number;
}

export interface TeiRank {
  index: number;
  score: number;
  text?: string;
  chunk?: { index: number; count: number; start_token: number };
}

/** TEI's ErrorType, serialized as its variant names (no serde rename in router/src/lib.rs). */
export const TEI_ERROR_TYPES = ['Unhealthy', 'Backend', 'Overloaded', 'Validation', 'Tokenizer', 'Empty'] as const;
export type TeiErrorType = (typeof TEI_ERROR_TYPES)[number];

/** TEI's error body: `{"error": "...", "error_type": "Validation"}`. */
export const teiErrorBodySchema = {
  type: 'object',
  required: ['error', 'error_type'],
  properties: {
    error: { type: 'string' },
    error_type: { type: 'string', enum: TEI_ERROR_TYPES },
  },
} as const;

export interface TeiErrorBody {
  error: string;
  error_type: TeiErrorType;
}

const labelsSchema = {
  type: 'object',
  required: ['id2label', 'label2id'],
  properties: {
    id2label: { type: 'object', additionalProperties: { type: 'string' } },
    label2id: { type: 'object', additionalProperties: { type: 'integer' } },
  },
} as const;

/** TEI's `Info`, the fields that mean something here; unknown ones are null. */
export const teiInfoSchema = {
  type: 'object',
  required: ['model_id', 'model_sha', 'model_dtype', 'model_type', 'max_concurrent_requests', 'max_input_length', 'max_batch_tokens', 'max_batch_requests', 'max_client_batch_size', 'auto_truncate', 'tokenization_workers', 'version'],
  properties: {
    model_id: { type: 'string' },
    model_sha: { type: ['string', 'null'], description: 'The Hub commit the model was pulled at, when known' },
    model_dtype: { type: ['string', 'null'], description: 'float32, float16 or int8, from the served ONNX file; null before a worker reports it' },
    served_model_name: { type: 'string' },
    model_type: {
      anyOf: [{ type: 'object', required: ['reranker'], properties: { reranker: labelsSchema } }, { type: 'null' }],
      description: '{reranker: {id2label, label2id}} from the model\'s config.json; null before a worker reports it',
    },
    max_concurrent_requests: { type: 'integer', description: 'MAX_QUEUE_DEPTH: jobs waiting before requests are refused (429)' },
    max_input_length: { type: ['integer', 'null'], description: 'Longest (query, text) pair in tokens; null before a worker reports it' },
    max_batch_tokens: { type: 'integer' },
    max_batch_requests: { type: ['integer', 'null'] },
    max_client_batch_size: { type: 'integer', description: 'MAX_DOCUMENTS: texts per request' },
    auto_truncate: { type: 'boolean', description: 'What an absent `truncate` means' },
    tokenization_workers: { type: 'integer', description: 'POOL_THREADS of each worker' },
    version: { type: 'string' },
    sha: { type: ['string', 'null'] },
    docker_label: { type: ['string', 'null'] },
  },
} as const;

export interface TeiInfo {
  model_id: string;
  model_sha: string | null;
  model_dtype: string | null;
  served_model_name: string;
  model_type: { reranker: { id2label: Record<string, string>; label2id: Record<string, number> } } | null;
  max_concurrent_requests: number;
  max_input_length: number | null;
  max_batch_tokens: number;
  max_batch_requests: number | null;
  max_client_batch_size: number;
  auto_truncate: boolean;
  tokenization_workers: number;
  version: string;
  sha: string | null;
  docker_label: string | null;
}
