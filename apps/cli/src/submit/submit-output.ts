import { rename } from 'node:fs/promises';
import { formatRunLine, writeLines } from '@rerank-pool/eval';
import type { BatchResultLine } from '@rerank-pool/contracts';

export type OutputFormat = 'jsonl' | 'trec';

/** The run tag of written TREC runs. */
const RUN_TAG = 'rerank-pool';

export interface LineFailure {
  id: string | number;
  code: string;
  message: string;
}

function failureOf(line: BatchResultLine): LineFailure | undefined {
  return 'error' in line ? { id: line.id, code: line.error.code, message: line.error.message } : undefined;
}

/** The failed lines of a batch's results, read without writing the results anywhere. */
export async function readFailures(results: AsyncIterable<string>): Promise<LineFailure[]> {
  const failures: LineFailure[] = [];
  for await (const text of results) {
    const failure = failureOf(JSON.parse(text) as BatchResultLine);
    if (failure) failures.push(failure);
  }
  return failures;
}

/**
 * Writes the batch's results to `out`: JSONL as the API serves it, or a TREC run of each query's
 * re-ranked candidates (`docids` maps a query's result indexes back to document ids). Lines that
 * failed are collected, not written to a TREC run. The file appears whole or not at all: it is
 * written beside `out` and renamed, so an interrupted submit never leaves a truncated result.
 */
export async function writeResults(
  out: string,
  format: OutputFormat,
  results: AsyncIterable<string>,
  docids?: ReadonlyMap<string, readonly string[]>,
): Promise<LineFailure[]> {
  const failures: LineFailure[] = [];
  async function* lines(): AsyncGenerator<string> {
    for await (const text of results) {
      const line = JSON.parse(text) as BatchResultLine;
      const failure = failureOf(line);
      if (failure) failures.push(failure);
      if (format === 'jsonl') {
        yield text;
        continue;
      }
      if (!('results' in line)) continue;
      const qid = String(line.id);
      const candidates = docids?.get(qid) ?? [];
      for (const [rank, result] of line.results.entries()) {
        yield formatRunLine({ qid, docid: candidates[result.index]!, rank: rank + 1, score: result.relevance_score, tag: RUN_TAG });
      }
    }
  }
  const partial = `${out}.partial`;
  await writeLines(partial, lines());
  await rename(partial, out);
  return failures;
}
