import type { LineContext, LineParser, ParsedLine, RawLine } from '@rerank-pool/batches';
import { Errors, isRerankPoolError } from '@rerank-pool/contracts';
import type { BatchLine } from '@rerank-pool/contracts';
import type { FastifyError } from 'fastify';
import { JsonLimitError, parseBoundedJson } from './bounded-json.js';
import type { JsonLimits } from './bounded-json.js';
import { fromValidation } from './error-handler.js';
import { inputFromCohere } from './rerank-input.js';
import type { RerankService } from './rerank-service.js';

/** The compiled validator of `batchLineSchema` (the same AJV as every request body). */
export type LineValidator = ((value: unknown) => boolean) & { errors?: FastifyError['validation'] | null };

/** A JSON object (not an array, not null): what a batch line, or a batch by reference, must be. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The line's own id when it is usable, so even a rejected line reads back under its id. */
function idOf(value: unknown, number: number): string | number {
  const id = isObject(value) ? value.id : undefined;
  if ((typeof id === 'string' && id.length > 0 && id.length <= 256) || Number.isInteger(id)) return id as string | number;
  return number;
}

/** A line parsed within the limits of a request body; `problem` completes "line 3 …". */
function parseLine(text: string, limits: JsonLimits): { value: unknown } | { problem: string } {
  try {
    return { value: parseBoundedJson(text, limits) };
  } catch (error) {
    if (error instanceof JsonLimitError) return { problem: error.reason };
    if (error instanceof SyntaxError) return { problem: `is not valid JSON: ${error.message}` };
    throw error;
  }
}

/**
 * Turns each batch line into a job or that line's error, with the checks of `/v1/rerank`: the
 * same schema through the same validator compiler, then the service's limits and model lookup.
 * Lines are read as their batch runs (uploads are stored first, by-reference inputs are never
 * uploaded), so nothing a line contains can fail the batch or the request that created it.
 */
export class BatchLineReader implements LineParser {
  constructor(
    /** The validator is compiled by Fastify once the app is ready; asked for at the first line. */
    private readonly validator: () => LineValidator,
    private readonly service: RerankService,
    private readonly maxLineBytes: number,
    /** MAX_JSON_DEPTH and the value count: each line gets the bounds of a request body. */
    private readonly jsonLimits: JsonLimits,
  ) {}

  parse(raw: RawLine, { tenant, trace }: LineContext): ParsedLine {
    if ('tooLongBytes' in raw) {
      const error = Errors.payloadTooLarge(`line ${raw.number} has ${raw.tooLongBytes} bytes; the limit is ${this.maxLineBytes} (MAX_BODY_BYTES)`);
      return { id: raw.number, error };
    }
    const parsed = parseLine(raw.text, this.jsonLimits);
    if ('problem' in parsed) return { id: raw.number, error: Errors.invalidRequest(`line ${raw.number} ${parsed.problem}`) };
    const { value } = parsed;
    const id = idOf(value, raw.number);
    if (!isObject(value)) return { id, error: Errors.invalidRequest(`line ${raw.number} must be a JSON object {query, documents, ...}`) };
    const validate = this.validator();
    if (!validate(value)) return { id, error: fromValidation(validate.errors ?? []) };
    try {
      // Batch lines run at batch priority whatever they say: online traffic goes first.
      const job = this.service.prepare(inputFromCohere(value as unknown as BatchLine, 'batch'), tenant, trace);
      return { id, job };
    } catch (error) {
      if (isRerankPoolError(error)) return { id, error };
      throw error;
    }
  }

  idOf(raw: RawLine): string | number {
    if ('tooLongBytes' in raw) return raw.number;
    const parsed = parseLine(raw.text, this.jsonLimits);
    return 'value' in parsed ? idOf(parsed.value, raw.number) : raw.number;
  }
}
