/**
 * Cohere-compatible rerank (`POST /v1/rerank`, `POST /v2/rerank`). Field names and response shape
 * follow Cohere's API so the official SDKs parse our responses (checked against cohere-ai v8 types:
 * `results[].relevance_score`, `meta.billed_units.search_units`, `meta.api_version.version`).
 */

/** Cohere's v2 SDK sends an integer `priority` (0 = most urgent); 0 maps to interactive, more to batch. */
export const prioritySchema = {
  anyOf: [
    { type: 'string', enum: ['interactive', 'batch'] },
    { type: 'integer', minimum: 0 },
  ],
  description: '"interactive" (default) is served before "batch"; Cohere integers: 0 = interactive, >0 = batch',
} as const;

/**
 * Cohere's `max_chunks_per_doc`: a document longer than the model's window is scored as up to this
 * many overlapping chunks and gets its best chunk's score (the result's `chunk` says which). The
 * cohere-ai SDKs (v7 and v8) send `"max_chunks_per_doc": null` whenever the caller leaves it unset,
 * and LangChain's CohereRerank always passes the field, so null is accepted and means the default.
 */
export const maxChunksPerDocSchema = {
  // `nullable` (OpenAPI 3.0's spelling, which Ajv honours) rather than anyOf with null, so the
  // OpenAPI document shows this very schema.
  type: 'integer',
  minimum: 1,
  nullable: true,
  description: 'Score a long document as up to this many overlapping chunks (a quarter of the window overlaps), best chunk wins; at most MAX_CHUNKS_PER_DOC; default (or null) 1: truncate',
} as const;

const rerankOptionProperties = {
  model: { type: 'string', minLength: 1, description: 'A served model id; defaults to the first' },
  query: { type: 'string', minLength: 1 },
  top_n: { type: 'integer', minimum: 1, description: 'Return only the N best results' },
  return_documents: { type: 'boolean', default: false },
  return_signals: { type: 'boolean', default: false, description: 'Add meta.signals: how much re-ranking changed the input order, truncation, score spread' },
  max_tokens_per_doc: { type: 'integer', minimum: 1, description: 'Truncate each document to this many tokens' },
  priority: prioritySchema,
  timeout_ms: { type: 'integer', minimum: 1, maximum: 600_000, description: 'Give up (504) after this long' },
  max_chunks_per_doc: maxChunksPerDocSchema,
  cache: { type: 'boolean', default: true, description: 'false: neither read nor write the pair-score cache (when the server has SCORE_CACHE_URL); every pair is computed' },
} as const;

/**
 * A v1 document given as an object. Without `rank_fields` its `text` is what is scored; with them,
 * the named fields are (see `rankText`). Every key is kept and returned as sent.
 */
export const documentObjectSchema = {
  type: 'object',
  minProperties: 1,
  properties: { text: { type: 'string' } },
  additionalProperties: true,
} as const;

/** Cohere v1's `rank_fields`: which keys of object documents are scored, in this order. */
export const rankFieldsSchema = {
  type: 'array',
  minItems: 1,
  maxItems: 32,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: 256 },
  description: 'Keys of object documents to score, in order, rendered as "key: value" lines (default: text)',
} as const;

/**
 * Unknown fields are refused (400 naming the field), as Cohere's API does; object documents keep
 * any keys of their own (Cohere v1 documents carry metadata, and `rank_fields` picks among them).
 */
export const rerankV1RequestSchema = {
  type: 'object',
  required: ['query', 'documents'],
  additionalProperties: false,
  properties: {
    ...rerankOptionProperties,
    documents: {
      type: 'array',
      minItems: 1,
      items: { anyOf: [{ type: 'string' }, documentObjectSchema] },
    },
    rank_fields: rankFieldsSchema,
  },
} as const;

export const rerankV2RequestSchema = {
  type: 'object',
  required: ['query', 'documents'],
  additionalProperties: false,
  properties: {
    ...rerankOptionProperties,
    documents: { type: 'array', minItems: 1, items: { type: 'string' } },
  },
} as const;

/** Which chunk gave a chunked document its score; only in results of requests with max_chunks_per_doc > 1. */
export const chunkResultSchema = {
  type: 'object',
  required: ['index', 'count', 'start_token'],
  properties: {
    index: { type: 'integer', description: 'The winning chunk (0-based)' },
    count: { type: 'integer', description: 'Chunks the document was scored as (1 when it fits)' },
    start_token: { type: 'integer', description: "The chunk's first token within the document's tokens" },
  },
} as const;

export const rerankResultSchema = {
  type: 'object',
  required: ['index', 'relevance_score'],
  properties: {
    index: { type: 'integer' },
    relevance_score: { type: 'number' },
    document: documentObjectSchema,
    chunk: chunkResultSchema,
  },
} as const;

/**
 * `meta.signals` (`return_signals: true`): label-free signs of whether re-ranking was worth it.
 * Computed over every document scored, whatever `top_n` returns; the input order is taken as the
 * first stage's ranking (index 0 its best).
 */
export const rerankSignalsSchema = {
  type: 'object',
  required: ['documents', 'kendall_tau', 'top10_kept', 'top10_kept_fraction', 'truncated_documents', 'truncated_fraction', 'score_spread', 'score_stdev'],
  properties: {
    documents: { type: 'integer', description: 'Documents scored (n)' },
    kendall_tau: {
      type: 'number',
      nullable: true,
      description: 'Kendall tau between the input order and the re-ranked order, -1..1: 1 = order unchanged, 0 = unrelated, -1 = reversed. Tied scores keep input order, so a tie counts as concordant. Null for one document',
    },
    top10_kept: { type: 'integer', description: 'How many of the first min(10, n) input documents are among the first min(10, n) results' },
    top10_kept_fraction: { type: 'number', description: 'top10_kept / min(10, n): 1 = the re-ranker kept the same top 10 (maybe reordered)' },
    truncated_documents: { type: 'integer', nullable: true, description: "Documents cut to fit the model's window (chunked: any chunk cut); null when the worker did not report it" },
    truncated_fraction: { type: 'number', nullable: true, description: 'truncated_documents / n: near 1, the model mostly read cut text' },
    score_spread: { type: 'number', description: 'Highest minus lowest relevance_score: near 0, the model barely told the documents apart' },
    score_stdev: { type: 'number', description: 'Population standard deviation of the relevance scores' },
  },
} as const;

export const rerankMetaSchema = {
  type: 'object',
  properties: {
    api_version: { type: 'object', properties: { version: { type: 'string' } } },
    model: { type: 'string' },
    billed_units: { type: 'object', properties: { search_units: { type: 'integer' } } },
    tokens: { type: 'object', properties: { input_tokens: { type: 'integer' } } },
    timings_ms: {
      type: 'object',
      properties: { queue: { type: 'number' }, inference: { type: 'number' }, total: { type: 'number' } },
    },
    signals: rerankSignalsSchema,
    cache: {
      type: 'object',
      description: 'With the pair-score cache on: how many documents were scored from it (hits) and how many computed (misses)',
      properties: { hits: { type: 'integer' }, misses: { type: 'integer' } },
    },
  },
} as const;

export const rerankResponseSchema = {
  type: 'object',
  required: ['id', 'results', 'meta'],
  properties: {
    id: { type: 'string' },
    results: { type: 'array', items: rerankResultSchema },
    meta: rerankMetaSchema,
  },
} as const;

/** A v1 object document: `text` unless `rank_fields` name other keys; returned as sent. */
export type RerankDocumentObject = { text?: string } & Record<string, unknown>;
export type RerankDocument = string | RerankDocumentObject;
export type RequestPriority = 'interactive' | 'batch' | number;

/** The fields every Cohere-shaped body shares: synchronous requests, async jobs, batch lines. */
export interface RerankFields {
  model?: string;
  query: string;
  documents: RerankDocument[];
  top_n?: number;
  return_documents?: boolean;
  /** Add `meta.signals` (`RerankSignalsBody`). */
  return_signals?: boolean;
  /** false: bypass the pair-score cache. */
  cache?: boolean;
  max_tokens_per_doc?: number;
  max_chunks_per_doc?: number | null;
  /** v1 only: the keys of object documents that are scored (`rankText`). */
  rank_fields?: string[];
}

export interface RerankRequest extends RerankFields {
  priority?: RequestPriority;
  timeout_ms?: number;
}

export interface RerankResult {
  index: number;
  relevance_score: number;
  document?: RerankDocumentObject;
  chunk?: { index: number; count: number; start_token: number };
}

export interface RerankMeta {
  api_version?: { version: string };
  model: string;
  billed_units: { search_units: number };
  tokens: { input_tokens: number };
  timings_ms: { queue: number; inference: number; total: number };
  signals?: RerankSignalsBody;
  cache?: { hits: number; misses: number };
}

/** `meta.signals`: see `rerankSignalsSchema` for each field. */
export interface RerankSignalsBody {
  documents: number;
  kendall_tau: number | null;
  top10_kept: number;
  top10_kept_fraction: number;
  truncated_documents: number | null;
  truncated_fraction: number | null;
  score_spread: number;
  score_stdev: number;
}

export interface RerankResponse {
  id: string;
  results: RerankResult[];
  meta: RerankMeta;
}
