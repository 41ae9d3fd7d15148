import type { JobPriority, RequestPriority } from '@rerank-pool/contracts';

/** A rerank request once its wire format (Cohere, TEI, jobs) is stripped away. */
export interface RerankInput {
  model?: string;
  query: string;
  documents: string[];
  maxTokensPerDoc?: number;
  /** false: the worker fails over-long inputs (`input_too_long`) instead of truncating. */
  truncate: boolean;
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

export function documentText(document: string | { text: string }): string {
  return typeof document === 'string' ? document : document.text;
}
