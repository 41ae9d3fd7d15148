import type { JobPriority, RequestPriority, RerankDocument, RerankFields, TruncationDirection } from '@rerank-pool/contracts';

/** A rerank request once its wire format (Cohere, TEI, jobs) is stripped away. */
export interface RerankInput {
  model?: string;
  query: string;
  documents: string[];
  maxTokensPerDoc?: number;
  /** false: the worker fails over-long inputs (`input_too_long`) instead of truncating. */
  truncate: boolean;
  /** Which end truncation drops (TEI's `truncation_direction`); default `right`, the beginning is kept. */
  truncationDirection?: TruncationDirection;
  /** Score a long document as its best of up to this many overlapping chunks; default 1 (truncation). */
  maxChunksPerDoc?: number;
  priority: JobPriority;
  timeoutMs?: number;
  callbackUrl?: string;
  response?: { topN?: number; returnDocuments?: boolean };
}

/** Cohere's SDK sends an integer priority (0 most urgent); ours are named. */
export function toJobPriority(priority: RequestPriority | undefined, fallback: JobPriority): JobPriority {
  if (priority === undefined) return fallback;
  if (typeof priority === 'number') return priority === 0 ? 'interactive' : 'batch';
  return priority;
}

function documentText(document: RerankDocument): string {
  return typeof document === 'string' ? document : document.text;
}

/** A Cohere-shaped body (synchronous request, async job or batch line) as the service takes it. */
export function inputFromCohere(
  body: RerankFields,
  priority: JobPriority,
  extra: Pick<RerankInput, 'timeoutMs' | 'callbackUrl'> = {},
): RerankInput {
  return {
    model: body.model,
    query: body.query,
    documents: body.documents.map(documentText),
    maxTokensPerDoc: body.max_tokens_per_doc,
    // The Cohere SDKs send null when the caller leaves it unset.
    maxChunksPerDoc: body.max_chunks_per_doc ?? undefined,
    // Cohere truncates long documents instead of failing.
    truncate: true,
    priority,
    response: { topN: body.top_n, returnDocuments: body.return_documents },
    ...extra,
  };
}
