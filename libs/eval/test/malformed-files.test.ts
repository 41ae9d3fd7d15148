import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCorpus, readQrels, readRun, readTopics, streamRerankRequests, type EvalError } from '@rerank-pool/eval';
import { scratchDir } from './fixtures.js';

async function failure(promise: Promise<unknown>): Promise<EvalError> {
  try {
    await promise;
  } catch (error) {
    return error as EvalError;
  }
  throw new Error('expected a failure');
}

async function drain(source: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of source);
}

describe('when an input file is malformed', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    scratch = await scratchDir();
  });
  afterAll(() => scratch.remove());

  it('should name the file and line of a qrels line with a missing field', async () => {
    // The blank line 2 still counts, so the message matches what an editor shows.
    const file = await scratch.write('short.qrels', 'q1 0 d1 1\n\nq1 0 d2\n');
    const error = await failure(readQrels(file));
    expect(error).toMatchObject({ code: 'EVAL_MALFORMED_LINE', file, line: 3 });
    expect(error.message).toBe(`${file}:3: expected 4 fields "qid iter docid rel", found 3`);
  });

  it('should reject a non-integer relevance and skip # comments', async () => {
    const file = await scratch.write('grade.qrels', '# judged by hand\nq1 0 d1 high\n');
    expect(await failure(readQrels(file))).toMatchObject({ line: 2, message: expect.stringContaining('relevance must be an integer, got "high"') });
  });

  it('should reject a document judged twice for one query', async () => {
    const file = await scratch.write('twice.qrels', 'q1 0 d1 1\nq1 0 d1 2\n');
    expect(await failure(readQrels(file))).toMatchObject({ code: 'EVAL_DUPLICATE_ENTRY', line: 2 });
  });

  it('should reject run lines with the wrong field count or a score that is not a number', async () => {
    const fields = await scratch.write('fields.run', 'q1 Q0 d1 1 0.5 tag\nq1 Q0 d2 2 0.4\n');
    expect(await failure(readRun(fields))).toMatchObject({ line: 2, message: expect.stringContaining('expected 6 fields') });
    const score = await scratch.write('score.run', 'q1 Q0 d1 1 NaN tag\n');
    expect(await failure(readRun(score))).toMatchObject({ line: 1, message: expect.stringContaining('score must be a finite number, got "NaN"') });
    const overflow = await scratch.write('overflow.run', 'q1 Q0 d1 1 1e999 tag\n');
    expect(await failure(readRun(overflow))).toMatchObject({ line: 1, message: expect.stringContaining('got "1e999"') });
    const rank = await scratch.write('rank.run', 'q1 Q0 d1 first 0.5 tag\n');
    expect(await failure(readRun(rank))).toMatchObject({ line: 1, message: expect.stringContaining('rank must be an integer') });
  });

  it('should reject a document listed twice for one query, as trec_eval does', async () => {
    const file = await scratch.write('dup.run', 'q1 Q0 d1 1 0.5 t\nq2 Q0 d1 1 0.5 t\nq1 Q0 d1 2 0.4 t\n');
    expect(await failure(readRun(file))).toMatchObject({ code: 'EVAL_DUPLICATE_ENTRY', line: 3, message: expect.stringContaining('"d1" appears twice for query "q1"') });
  });

  it('should name the line of invalid JSON in topics and a missing text in a corpus', async () => {
    const topics = await scratch.write('topics.jsonl', '{"id": "1", "query": "a"}\n{"id": "2", "query": \n');
    expect(await failure(readTopics(topics))).toMatchObject({ code: 'EVAL_MALFORMED_LINE', line: 2, message: expect.stringContaining('invalid JSON') });
    const corpus = await scratch.write('corpus.jsonl', '{"_id": "d1", "text": "x"}\n{"_id": "d2", "title": "t"}\n');
    expect(await failure(readCorpus(corpus))).toMatchObject({ line: 2, message: expect.stringContaining('"text" or "contents"') });
  });

  it('should reject a TSV line without exactly two fields', async () => {
    const file = await scratch.write('topics.tsv', '1\tfirst query\n2 second query\n');
    expect(await failure(readTopics(file))).toMatchObject({ line: 2, message: expect.stringContaining('expected 2 tab-separated fields') });
  });

  it('should reject rerank requests with bad documents or a reused id', async () => {
    const bad = await scratch.write('bad.jsonl', '{"id": 1, "query": "q", "documents": ["a", {"text": "b"}, 3]}\n');
    expect(await failure(drain(streamRerankRequests(bad)))).toMatchObject({ line: 1, message: expect.stringContaining('documents[2] must be a string or {text: string}') });
    const reused = await scratch.write('reused.jsonl', '{"id": 7, "query": "q", "documents": []}\n\n{"id": "7", "query": "r", "documents": []}\n');
    expect(await failure(drain(streamRerankRequests(reused)))).toMatchObject({
      code: 'EVAL_DUPLICATE_ENTRY',
      line: 3,
      message: expect.stringContaining('request id "7" was already used on line 1'),
    });
  });

  it('should name a file that cannot be opened', async () => {
    const missing = join(scratch.dir, 'missing.run');
    expect(await failure(readRun(missing))).toMatchObject({ code: 'EVAL_FILE_IO', file: missing, message: expect.stringContaining(missing) });
  });
});
