export const modelListSchema = {
  type: 'object',
  required: ['data'],
  properties: {
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'aliases', 'workers'],
        properties: {
          id: { type: 'string', description: 'Hub id, or the folder name of a local model' },
          aliases: { type: 'array', items: { type: 'string' }, description: 'Other names a request may give as `model` for this model (RERANK_MODEL_ALIASES)' },
          max_length: { type: 'integer', description: 'Max tokens per (query, document) pair' },
          workers: { type: 'integer', description: 'Workers with a live heartbeat' },
        },
      },
    },
  },
} as const;

export interface ModelInfo {
  id: string;
  /** Other names a request may give as `model` for this model (RERANK_MODEL_ALIASES). */
  aliases: string[];
  max_length?: number;
  workers: number;
}

export interface ModelList {
  data: ModelInfo[];
}
