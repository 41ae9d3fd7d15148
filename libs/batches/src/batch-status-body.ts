import type { BatchStatusBody } from '@rerank-pool/contracts';
import type { BatchState } from './batch-state.js';

/** The JSON of `GET /v1/batches/:id`. */
export function toBatchStatusBody(state: BatchState): BatchStatusBody {
  const body: BatchStatusBody = {
    id: state.id,
    status: state.status,
    total: state.total,
    completed: state.completed,
    failed: state.failed,
    cancelled: state.cancelled,
    pairs: { total: state.pairsTotal, completed: state.pairsCompleted },
    created_at: new Date(state.createdAt).toISOString(),
  };
  if (state.finishedAt !== undefined) body.finished_at = new Date(state.finishedAt).toISOString();
  if (state.inputUrl !== undefined) body.input_url = state.inputUrl;
  if (state.outputUrl !== undefined) body.output_url = state.outputUrl;
  if (state.error !== undefined) body.error = state.error;
  return body;
}
