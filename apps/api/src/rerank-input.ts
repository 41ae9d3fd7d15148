import { Errors } from '@rerank-pool/contracts';
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
  /** false (`cache: false`): the pair-score cache is neither read nor written for this request. */
  cache?: boolean;
  response?: { topN?: number; returnDocuments?: boolean; returnSignals?: boolean };
}

/** Cohere's SDK sends an integer priority (0 most urgent); ours are named. */
export function toJobPriority(priority: RequestPriority | undefined, fallback: JobPriority): JobPriority {
  if (priority === undefined) return fallback;
  if (typeof priority === 'number') return priority === 0 ? 'interactive' : 'batch';
  return priority;
}

/**
 * The text the model scores for one v1 document. A string is scored as it is. An object is scored
 * by its `text`, or by the one key `rank_fields` names, or, when it names several, by those keys
 * in that order, one `key: value` line each, so the model sees which field says what. A key that is
 * missing or not a string is refused, naming it: silently scoring less than asked would rank wrong.
 */
function rankText(document: RerankDocument, index: number, rankFields: readonly string[] | undefined): string {
  if (typeof document === 'string') return document;
  const fields = rankFields ?? ['text'];
  const lines = fields.map((field) => {
    const value = Object.hasOwn(document, field) ? document[field] : undefined;
    if (typeof value !== 'string') {
      const problem = value === undefined ? 'is required' : 'must be a string';
      const why = rankFields ? ' (it is in rank_fields)' : '';
      throw Errors.invalidRequest(`documents[${index}].${field} ${problem}${why}`, `documents[${index}].${field}`);
    }
    return fields.length > 1 ? `${field}: ${value}` : value;
  });
  return lines.join('\n');
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
    documents: body.documents.map((document, index) => rankText(document, index, body.rank_fields)),
    maxTokensPerDoc: body.max_tokens_per_doc,
    // The Cohere SDKs send null when the caller leaves it unset.
    maxChunksPerDoc: body.max_chunks_per_doc ?? undefined,
    // Cohere truncates long documents instead of failing.
    truncate: true,
    priority,
    cache: body.cache,
    response: { topN: body.top_n, returnDocuments: body.return_documents, returnSignals: body.return_signals },
    ...extra,
  };
}
