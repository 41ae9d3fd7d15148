import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EvalError } from './eval-error.js';

/**
 * Writes lines (each without its newline) to `file`, replacing it. Accepts an async source so
 * a re-ranked run of millions of lines streams to disk under backpressure instead of being
 * joined in memory.
 */
export async function writeLines(file: string, lines: Iterable<string> | AsyncIterable<string>): Promise<void> {
  async function* terminated(): AsyncGenerator<string> {
    for await (const line of lines) yield `${line}\n`;
  }
  try {
    await pipeline(Readable.from(terminated()), createWriteStream(file));
  } catch (error) {
    if (error instanceof EvalError) throw error;
    throw new EvalError('EVAL_FILE_IO', `cannot write ${file}: ${(error as Error).message}`, { file, cause: error });
  }
}
