import { rankResults } from '@rerank-pool/contracts';
import type { JobStatusBody } from '@rerank-pool/contracts';
import type { RerankJobStatus } from './job-status.js';

/** The JSON of `GET /v1/jobs/:id`, also the body of webhooks: one shape for both. */
export function toJobStatusBody(status: RerankJobStatus): JobStatusBody {
  const body: JobStatusBody = {
    id: status.id,
    status: status.status,
    progress: status.progress,
    created_at: new Date(status.createdAt).toISOString(),
  };
  if (status.finishedAt !== undefined) body.finished_at = new Date(status.finishedAt).toISOString();
  if (status.result && status.data) {
    const { response, documents } = status.data;
    const { result } = status;
    body.result = {
      results: rankResults(result.scores, {
        topN: response?.topN,
        documents: response?.returnDocuments ? documents : undefined,
      }),
      meta: {
        model: result.model,
        billed_units: { search_units: 1 },
        tokens: { input_tokens: result.inputTokens },
        timings_ms: {
          queue: result.timings.queueMs,
          inference: result.timings.inferenceMs,
          total: (status.finishedAt ?? status.createdAt) - status.createdAt,
        },
      },
    };
  }
  if (status.error) {
    body.error = { code: status.error.code, message: status.error.message };
    if (status.error.field !== undefined) body.error.field = status.error.field;
  }
  return body;
}
