import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferencePool } from '@rerank-pool/model-runtime';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { runCli } from './run-cli.js';
import { startInProcessService, type InProcessService } from './support/in-process-service.js';

const CLI = fileURLToPath(new URL('../../../bin/rerank-pool.js', import.meta.url));
const TOLERANCE = 1e-4;

/** `submit` against the whole service in this process: API, real worker, real (synthetic) model. */
describe('when rerank-pool submit runs against the API and a real worker', () => {
  const rng = createRng(7);
  let service: InProcessService;
  let root: string;
  let local: InferencePool;
  let base: string;

  beforeAll(async () => {
    service = await startInProcessService({ POOL_THREADS: '1', WORKER_CONCURRENCY: '8' });
    ({ root, local, base } = service);
  });

  afterAll(() => service?.close());

  const passage = () => syntheticText(rng, 3 + Math.floor(rng() * 40));

  async function jsonlFile(name: string, count: number, docs: () => number): Promise<{ file: string; requests: { id: string; query: string; documents: string[] }[] }> {
    const requests = Array.from({ length: count }, (_, i) => ({ id: `req-${i}`, query: `query ${i} ${syntheticText(rng, 4)}`, documents: Array.from({ length: docs() }, passage) }));
    const file = join(root, name);
    await writeFile(file, requests.map((request) => JSON.stringify(request)).join('\n') + '\n');
    return { file, requests };
  }

  async function expectScores(requests: { id: string; query: string; documents: string[] }[], out: string) {
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.id, line.index])).toEqual(requests.map((request, index) => [request.id, index]));
    for (const [index, line] of lines.entries()) {
      const expected = await local.score(requests[index]!.query, requests[index]!.documents);
      expect(line.results).toHaveLength(requests[index]!.documents.length);
      for (const result of line.results) expect(Math.abs(result.relevance_score - expected.scores[result.index]!)).toBeLessThanOrEqual(TOLERANCE);
      const scores = line.results.map((result: { relevance_score: number }) => result.relevance_score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    }
  }

  it('should re-rank a JSONL file in input order with the real scores, showing progress lines', async () => {
    const { file, requests } = await jsonlFile('requests.jsonl', 30, () => 1 + Math.floor(rng() * 12));
    const out = join(root, 'results.jsonl');
    const run = await runCli(['submit', file, '--out', out, '--interval-ms', '100'], { RERANK_POOL_URL: base });
    expect(run.stderr).toMatch(/^uploading 30 requests \(\d+ pairs\) to http:\/\/127\.0\.0\.1:\d+$/m);
    expect(run.stderr).toMatch(/^batch bat-[0-9a-f]{32}: 30 lines, (queued|running|completed)$/m);
    expect(run.stderr).toMatch(/^lines reranked: 30\/30 100% \d+\.\d pairs\/s$/m);
    expect(run.code).toBe(0);
    await expectScores(requests, out);
  });

  it('should re-rank the top --k-in candidates of a TREC run and write a TREC run', async () => {
    const docids = Array.from({ length: 12 }, (_, i) => `D${i}`);
    const texts = new Map(docids.map((docid) => [docid, passage()]));
    await writeFile(join(root, 'corpus.tsv'), [...texts].map(([docid, text]) => `${docid}\t${text}`).join('\n') + '\n');
    const topics = new Map([['q1', 'first topic words'], ['q2', 'second topic'], ['q3', 'third']]);
    await writeFile(join(root, 'topics.tsv'), [...topics].map(([qid, query]) => `${qid}\t${query}`).join('\n') + '\n');
    const candidates: Record<string, string[]> = { q1: docids.slice(0, 8), q2: docids.slice(4, 10), q3: ['D11', 'D2', 'D7'] };
    const runLines = Object.entries(candidates).flatMap(([qid, list]) => list.map((docid, rank) => `${qid} Q0 ${docid} ${rank + 1} ${(20 - rank) / 2} bm25`));
    await writeFile(join(root, 'first-stage.run'), runLines.join('\n') + '\n');
    const out = join(root, 'reranked.run');

    const run = await runCli([
      'submit', join(root, 'first-stage.run'), '--format', 'trec', '--topics', join(root, 'topics.tsv'), '--corpus', join(root, 'corpus.tsv'),
      '--k-in', '5', '--out', out, '--api', base, '--interval-ms', '100',
    ], { RERANK_POOL_URL: 'http://127.0.0.1:1' });
    expect(run.stderr).toMatch(/uploading 3 requests \(13 pairs\)/);
    expect(run.code).toBe(0);

    const written = (await readFile(out, 'utf8')).trimEnd().split('\n').map((line) => line.split(' '));
    for (const [qid, list] of Object.entries(candidates)) {
      const top = list.slice(0, 5);
      const expected = await local.score(topics.get(qid)!, top.map((docid) => texts.get(docid)!));
      const ranked = top.map((docid, i) => ({ docid, score: expected.scores[i]! })).sort((a, b) => b.score - a.score);
      const rows = written.filter((row) => row[0] === qid);
      expect(rows.map((row) => [row[1], row[2], row[3], row[5]])).toEqual(ranked.map((entry, rank) => ['Q0', entry.docid, String(rank + 1), 'rerank-pool']));
      rows.forEach((row, rank) => expect(Math.abs(Number(row[4]) - ranked[rank]!.score)).toBeLessThanOrEqual(TOLERANCE));
    }
  });

  it('should continue the same batch when killed and run again, and write the complete output', async () => {
    const { file, requests } = await jsonlFile('big.jsonl', 300, () => 24);
    const out = join(root, 'big-results.jsonl');
    const args = ['submit', file, '--out', out, '--api', base, '--interval-ms', '100'];

    const first = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((resolve) => first.once('exit', resolve));
    const batchId = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      first.stderr.on('data', (chunk) => {
        stderr += chunk;
        const match = /^batch (bat-[0-9a-f]{32})/m.exec(stderr);
        if (match) resolve(match[1]!);
      });
      first.once('exit', () => reject(new Error(`submit exited before its batch was accepted: ${stderr}`)));
    });
    first.kill('SIGKILL');
    await exited;
    const atKill = await (await fetch(`${base}/v1/batches/${batchId}`)).json();
    expect(atKill.total).toBe(300);
    expect(atKill.finished_at).toBeUndefined();

    const second = await runCli(args);
    expect(second.stderr).toContain(`batch ${batchId}: 300 lines`);
    expect(second.code).toBe(0);
    await expectScores(requests, out);
  });

  it('should refuse bad usage with exit code 2 and an unreachable API with its code', async () => {
    const missingOut = await runCli(['submit', join(root, 'requests.jsonl')]);
    expect(missingOut.code).toBe(2);
    expect(missingOut.stderr).toContain('submit: --out is required');
    const trecWithoutTopics = await runCli(['submit', 'run.trec', '--format', 'trec', '--out', 'x']);
    expect(trecWithoutTopics.code).toBe(2);
    expect(trecWithoutTopics.stderr).toContain('--format trec needs --topics FILE and --corpus FILE');
    const unreachable = await runCli(['submit', join(root, 'requests.jsonl'), '--out', join(root, 'never.jsonl'), '--api', 'http://127.0.0.1:1']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the API at http:\/\/127\.0\.0\.1:1 .*\[API_UNREACHABLE\]/);
  });
});
