import type { RerankJobData, RerankPoolError } from '@rerank-pool/contracts';
import type { RawLine } from './line-splitter.js';

/** A batch line read: the job to run, or the error that rejects it (never enqueued). Both keep the line's id. */
export type ParsedLine = { id: string | number; job: RerankJobData } | { id: string | number; error: RerankPoolError };

/** What a line is read with: its batch's tenant and the trace of the request that created the batch. */
export interface LineContext {
  tenant: string;
  trace?: Record<string, string>;
}

/**
 * Turns an input line into a job or that line's error, with the checks the API applies to
 * `/v1/rerank` (schema, limits, model). The API provides it; lines are read as the batch runs,
 * so a by-reference input is checked without ever passing through a request.
 */
export interface LineParser {
  parse(line: RawLine, context: LineContext): ParsedLine;
  /** The id alone (the line's own valid `id`, else its number): for lines that never ran, such as a cancelled batch's rest. */
  idOf(line: RawLine): string | number;
}
