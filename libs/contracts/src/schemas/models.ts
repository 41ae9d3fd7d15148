export const modelListSchema = {
  type: 'object',
  required: ['data'],
  properties: {
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'workers'],
        properties: {
          id: { type: 'string', description: 'Hub id, or the folder name of a local model' },
          max_length: { type: 'integer', description: 'Max tokens per (query, document) pair' },
          workers: { type: 'integer', description: 'Workers with a live heartbeat' },
        },
      },
    },
  },
} as const;

export interface ModelInfo {
  id: string;
  max_length?: number;
  workers: number;
}

export interface ModelList {
  data: ModelInfo[];
}
