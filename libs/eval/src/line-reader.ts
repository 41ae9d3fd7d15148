import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { EvalError } from './eval-error.js';

export interface NumberedLine {
  /** The line without its terminator (and without a UTF-8 BOM on line 1). */
  text: string;
  /** 1-based, counting blank lines, so messages match what an editor shows. */
  number: number;
}

/**
 * Streams a text file line by line. Run files and corpora reach gigabytes (MS MARCO: 8.8M
 * passages), so nothing here holds more than one line. Blank lines are skipped but counted.
 */
export async function* readNumberedLines(file: string): AsyncGenerator<NumberedLine> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new EvalError('EVAL_FILE_IO', `cannot open ${file}: ${(error as Error).message}`, { file, cause: error });
  }
  const lines = createInterface({ input: handle.createReadStream({ encoding: 'utf8' }), crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const raw of lines) {
      number++;
      const text = number === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (text.trim() === '') continue;
      yield { text, number };
    }
  } catch (error) {
    throw new EvalError('EVAL_FILE_IO', `cannot read ${file}: ${(error as Error).message}`, { file, line: number, cause: error });
  } finally {
    lines.close();
    await handle.close();
  }
}
