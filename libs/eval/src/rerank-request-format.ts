import { EvalError, malformedLine } from './eval-error.js';
import { readNumberedLines } from './line-reader.js';

/** A document as the rerank API takes it: a string or an object with `text`. */
export type RerankDocument = string | { text: string };

/** One line of a `submit` input: `{id, query, documents}`. */
export interface RerankRequestLine {
  /** Kept as written (string or number) so results carry back exactly the id the user gave. */
  id: string | number;
  query: string;
  documents: RerankDocument[];
}

function isDocument(value: unknown): value is RerankDocument {
  if (typeof value === 'string') return true;
  return typeof value === 'object' && value !== null && typeof (value as { text?: unknown }).text === 'string';
}

function parseRequest(file: string, line: number, text: string): RerankRequestLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw malformedLine(file, line, `invalid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw malformedLine(file, line, 'expected a JSON object {id, query, documents}');
  const { id, query, documents } = json as Record<string, unknown>;
  if (!(typeof id === 'string' && id !== '') && !(typeof id === 'number' && Number.isFinite(id))) {
    throw malformedLine(file, line, '"id" must be a non-empty string or a number');
  }
  if (typeof query !== 'string') throw malformedLine(file, line, '"query" must be a string');
  if (!Array.isArray(documents)) throw malformedLine(file, line, '"documents" must be an array');
  const bad = documents.findIndex((document) => !isDocument(document));
  if (bad >= 0) throw malformedLine(file, line, `documents[${bad}] must be a string or {text: string}`);
  return { id, query, documents: documents as RerankDocument[] };
}

/**
 * Streams rerank requests from JSONL. Ids must be unique across the file because results are
 * matched back to their request by id; the set of ids seen is the only state kept.
 */
export async function* streamRerankRequests(file: string): AsyncGenerator<RerankRequestLine & { line: number }> {
  const seen = new Map<string, number>();
  for await (const { text, number } of readNumberedLines(file)) {
    const request = parseRequest(file, number, text);
    // 7 and "7" print the same in results and logs, so they count as one id.
    const key = String(request.id);
    const first = seen.get(key);
    if (first !== undefined) {
      throw new EvalError('EVAL_DUPLICATE_ENTRY', `${file}:${number}: request id "${key}" was already used on line ${first}`, { file, line: number });
    }
    seen.set(key, number);
    yield { ...request, line: number };
  }
}

/** One upload line; `model` is written only when given (JSON leaves undefined out). */
export function formatRerankRequestLine(request: RerankRequestLine & { model?: string }): string {
  return JSON.stringify({ id: request.id, query: request.query, documents: request.documents, model: request.model });
}
