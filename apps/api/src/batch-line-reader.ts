import { Errors, isRerankPoolError } from '@rerank-pool/contracts';
import type { BatchLine } from '@rerank-pool/contracts';
import type { BatchLineInput } from '@rerank-pool/queue';
import type { FastifyError } from 'fastify';
import { fromValidation } from './error-handler.js';
import type { NdjsonLine } from './ndjson-lines.js';
import { inputFromCohere } from './rerank-input.js';
import type { RerankService } from './rerank-service.js';

/** A line of either upload format: NDJSON text (or its size, when too long) or an array element. */
export type RawBatchLine = NdjsonLine | { number: number; value: unknown };

/** The route's compiled validator for `batchLineSchema` (the same AJV as every request body). */
export type LineValidator = ((value: unknown) => boolean) & { errors?: FastifyError['validation'] | null };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The line's own id when it is usable, so even a rejected line reads back under its id. */
function idOf(value: unknown, number: number): string | number {
  const id = isObject(value) ? value.id : undefined;
  if ((typeof id === 'string' && id.length > 0 && id.length <= 256) || Number.isInteger(id)) return id as string | number;
  return number;
}

/**
 * Turns each uploaded line into a job or that line's error, with the checks of `/v1/rerank`:
 * the same schema through the same validator compiler, then the service's limits and model
 * lookup. Nothing a line contains can fail the batch.
 */
export class BatchLineReader {
  constructor(
    private readonly validate: LineValidator,
    private readonly service: RerankService,
    private readonly tenant: string,
    private readonly maxLineBytes: number,
    private readonly trace?: Record<string, string>,
  ) {}

  read(raw: RawBatchLine): BatchLineInput {
    if ('tooLongBytes' in raw) {
      const error = Errors.payloadTooLarge(`line ${raw.number} has ${raw.tooLongBytes} bytes; the limit is ${this.maxLineBytes} (MAX_BODY_BYTES)`);
      return { id: raw.number, error };
    }
    if ('value' in raw) return this.fromValue(raw.value, raw.number);
    let value: unknown;
    try {
      value = JSON.parse(raw.text);
    } catch (error) {
      return { id: raw.number, error: Errors.invalidRequest(`line ${raw.number} is not valid JSON: ${(error as Error).message}`) };
    }
    return this.fromValue(value, raw.number);
  }

  private fromValue(value: unknown, number: number): BatchLineInput {
    const id = idOf(value, number);
    if (!isObject(value)) return { id, error: Errors.invalidRequest(`line ${number} must be a JSON object {query, documents, ...}`) };
    if (!this.validate(value)) return { id, error: fromValidation(this.validate.errors ?? []) };
    const line = value as unknown as BatchLine;
    try {
      // Batch lines run at batch priority whatever they say: online traffic goes first.
      const job = this.service.prepare(inputFromCohere(line, 'batch'), this.tenant, this.trace);
      return { id, job };
    } catch (error) {
      if (isRerankPoolError(error)) return { id, error };
      throw error;
    }
  }
}
