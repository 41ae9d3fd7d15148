import type { ErrorCode } from '../errors.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; job_id?: string };
}

export const errorBodySchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable machine-readable code, e.g. invalid_request' },
        message: { type: 'string' },
        field: { type: 'string', description: 'The request field at fault, e.g. documents[3]' },
        job_id: { type: 'string', description: 'The job concerned (e.g. on a 504, to poll it)' },
      },
    },
  },
} as const;
