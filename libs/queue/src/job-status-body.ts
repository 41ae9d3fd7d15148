import { errorDetail, rerankBodyForJob } from '@rerank-pool/contracts';
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
    body.result = rerankBodyForJob(status.data, status.result, (status.finishedAt ?? status.createdAt) - status.createdAt);
  }
  if (status.error) body.error = errorDetail(status.error);
  return body;
}
