import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatCorpusLine,
  formatQrelsLine,
  formatRerankRequestLine,
  formatRunLine,
  formatTopicLine,
  readCorpus,
  readQrels,
  readRun,
  readTopics,
  streamRerankRequests,
  streamRun,
  writeLines,
} from '@rerank-pool/eval';
import { scratchDir } from './fixtures.js';

describe('when files are written and read back', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    scratch = await scratchDir();
  });
  afterAll(() => scratch.remove());

  it('should round-trip a run with exact scores, streamed from an async source', async () => {
    const scores = [0.1 + 0.2, 1e-300, -3.5, 12345.678901234567];
    async function* lines(): AsyncGenerator<string> {
      for (const [i, score] of scores.entries()) yield formatRunLine({ qid: 'q1', docid: `d${i}`, rank: i + 1, score, tag: 'rr' });
    }
    const file = `${scratch.dir}/out.run`;
    await writeLines(file, lines());
    expect((await readFile(file, 'utf8')).split('\n')[0]).toBe('q1 Q0 d0 1 0.30000000000000004 rr');
    expect((await readRun(file)).get('q1')!.map((entry) => entry.score)).toEqual(scores);
    const streamed = [];
    for await (const line of streamRun(file)) streamed.push(line);
    expect(streamed[1]).toEqual({ qid: 'q1', docid: 'd1', rank: 2, score: 1e-300, tag: 'rr', line: 2 });
  });

  it('should round-trip qrels and refuse ids a TREC file cannot hold', async () => {
    const file = `${scratch.dir}/out.qrels`;
    await writeLines(file, [formatQrelsLine({ qid: 'q1', docid: 'd1', rel: 2 }), formatQrelsLine({ qid: 'q1', docid: 'd2', rel: -1 })]);
    expect(await readQrels(file)).toEqual(new Map([['q1', new Map([['d1', 2], ['d2', -1]])]]));
    expect(() => formatRunLine({ qid: 'q 1', docid: 'd', rank: 1, score: 1, tag: 't' })).toThrow(expect.objectContaining({ code: 'EVAL_BAD_VALUE' }));
    expect(() => formatRunLine({ qid: 'q', docid: 'd', rank: 1, score: Number.NaN, tag: 't' })).toThrow(/score must be finite/);
  });

  it('should read topics as TSV or JSONL, telling them apart by the first line', async () => {
    const tsv = await scratch.write('topics.tsv', '\ufeff101\twhat is a cross encoder\r\n102\tbm25 {k1} tuning\r\n');
    expect(await readTopics(tsv)).toEqual(new Map([['101', 'what is a cross encoder'], ['102', 'bm25 {k1} tuning']]));
    const jsonl = await scratch.write('topics.jsonl', `${formatTopicLine({ qid: '101', query: 'tab\there' })}\n{"qid": 102, "text": "numeric id"}\n`);
    expect(await readTopics(jsonl)).toEqual(new Map([['101', 'tab\there'], ['102', 'numeric id']]));
  });

  it('should join corpus titles with text and keep only the requested documents', async () => {
    const file = await scratch.write(
      'corpus.jsonl',
      [
        '{"_id": "d1", "title": "Cross-encoders", "text": "score pairs jointly."}',
        '{"docid": "d2", "contents": "no title here"}',
        '{"id": 3, "title": "", "text": "empty title"}',
        formatCorpusLine({ docid: 'd4', text: 'written back' }),
      ].join('\n'),
    );
    expect(await readCorpus(file)).toEqual(
      new Map([
        ['d1', 'Cross-encoders score pairs jointly.'],
        ['d2', 'no title here'],
        ['3', 'empty title'],
        ['d4', 'written back'],
      ]),
    );
    expect(await readCorpus(file, { docids: new Set(['d2', 'missing']) })).toEqual(new Map([['d2', 'no title here']]));
    const tsv = await scratch.write('corpus.tsv', 'd1\tfirst passage\nd2\tsecond passage\n');
    expect(await readCorpus(tsv, { format: 'tsv' })).toEqual(new Map([['d1', 'first passage'], ['d2', 'second passage']]));
  });

  it('should stream rerank requests with their line numbers, ids kept as written', async () => {
    const requests = [
      { id: 'a', query: 'q', documents: ['x', { text: 'y' }] },
      { id: 2, query: 'r', documents: [] },
    ];
    const file = `${scratch.dir}/requests.jsonl`;
    await writeLines(file, requests.map(formatRerankRequestLine));
    const read = [];
    for await (const request of streamRerankRequests(file)) read.push(request);
    expect(read).toEqual([
      { ...requests[0], line: 1 },
      { ...requests[1], line: 2 },
    ]);
  });
});
