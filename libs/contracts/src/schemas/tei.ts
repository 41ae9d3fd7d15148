/**
 * Hugging Face text-embeddings-inference compatible `POST /rerank`. Unknown fields are ignored,
 * as TEI itself does: its clients send fields such as `truncation_direction` unasked.
 */
export const teiRerankRequestSchema = {
  type: 'object',
  required: ['query', 'texts'],
  properties: {
    query: { type: 'string', minLength: 1 },
    texts: { type: 'array', minItems: 1, items: { type: 'string' } },
    raw_scores: { type: 'boolean', default: false, description: 'Return raw logits instead of 0..1 scores' },
    return_text: { type: 'boolean', default: false },
    truncate: { type: 'boolean', default: false, description: 'false: an over-long input is a 413 error' },
  },
} as const;

export const teiRerankResponseSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['index', 'score'],
    properties: { index: { type: 'integer' }, score: { type: 'number' }, text: { type: 'string' } },
  },
} as const;

export interface TeiRerankRequest {
  query: string;
  texts: string[];
  raw_scores?: boolean;
  return_text?: boolean;
  truncate?: boolean;
}

export interface TeiRank {
  index: number;
  score: number;
  text?: string;
}
