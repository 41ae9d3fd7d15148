export const healthSchema = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['ok', 'ready', 'not_ready'] },
    reasons: { type: 'array', items: { type: 'string' }, description: 'Why the service is not ready' },
  },
} as const;

export interface HealthBody {
  status: 'ok' | 'ready' | 'not_ready';
  reasons?: string[];
}
