/**
 * Stable codes for every failure this library reports. The CLI prints the code next to the
 * message; callers that recover (e.g. `submit` skipping a bad line) switch on it.
 */
export type EvalErrorCode =
  /** The file could not be opened, read or written. */
  | 'EVAL_FILE_IO'
  /** A line does not parse in the expected format; `file` and `line` say where. */
  | 'EVAL_MALFORMED_LINE'
  /** The same (query, document) or request id appears twice; trec_eval also refuses these. */
  | 'EVAL_DUPLICATE_ENTRY'
  /** A value cannot be written in the target format (whitespace in an id, a non-finite score). */
  | 'EVAL_BAD_VALUE'
  /** An option is invalid; the message names it. */
  | 'EVAL_BAD_OPTION'
  /** No query has both judgments and results, so there is nothing to average. */
  | 'EVAL_NO_QUERIES';

export interface EvalErrorLocation {
  file?: string;
  /** 1-based line number in `file`. */
  line?: number;
}

export class EvalError extends Error {
  override readonly name = 'EvalError';
  readonly code: EvalErrorCode;
  readonly file: string | undefined;
  readonly line: number | undefined;

  constructor(code: EvalErrorCode, message: string, options: EvalErrorLocation & { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.file = options.file;
    this.line = options.line;
  }
}

/** The error for a line that does not parse: the message always leads with `file:line`. */
export function malformedLine(file: string, line: number, problem: string): EvalError {
  return new EvalError('EVAL_MALFORMED_LINE', `${file}:${line}: ${problem}`, { file, line });
}
