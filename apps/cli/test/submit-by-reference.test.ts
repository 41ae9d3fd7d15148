import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferencePool } from '@rerank-pool/model-runtime';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { runCli } from './run-cli.js';
import { startInProcessService, type InProcessService } from './support/in-process-service.js';

const TOLERANCE = 1e-4;

interface Request {
  id: string;
  query: string;
  documents: string[];
}

/** `submit --input-url`: the service reads the input where it is and writes the results to output_url. */
describe('when rerank-pool submit names its input by URL', () => {
  const rng = createRng(11);
  let service: InProcessService;
  let root: string;
  let local: InferencePool;
  let base: string;
  /** The only place the service may read and write batch files (BATCH_URL_PREFIXES). */
  let shared: string;

  beforeAll(async () => {
    service = await startInProcessService((dir) => ({
      POOL_THREADS: '1',
      WORKER_CONCURRENCY: '8',
      BATCH_URL_PREFIXES: pathToFileURL(join(dir, 'shared')).href,
    }));
    ({ root, local, base } = service);
    shared = join(root, 'shared');
    await mkdir(join(shared, 'in'), { recursive: true });
  });

  afterAll(() => service?.close());

  const url = (path: string) => pathToFileURL(path).href;
  const passage = () => syntheticText(rng, 3 + Math.floor(rng() * 40));

  async function requestsFile(path: string, count: number): Promise<Request[]> {
    const requests = Array.from({ length: count }, (_, i) => ({
      id: `req-${i}`,
      query: `query ${i} ${syntheticText(rng, 4)}`,
      documents: Array.from({ length: 1 + Math.floor(rng() * 12) }, passage),
    }));
    await writeFile(path, requests.map((request) => JSON.stringify(request)).join('\n') + '\n');
    return requests;
  }

  async function expectScores(requests: readonly Request[], file: string) {
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.id, line.index])).toEqual(requests.map((request, index) => [request.id, index]));
    for (const [index, line] of lines.entries()) {
      const expected = await local.score(requests[index]!.query, requests[index]!.documents);
      expect(line.results).toHaveLength(requests[index]!.documents.length);
      for (const result of line.results) expect(Math.abs(result.relevance_score - expected.scores[result.index]!)).toBeLessThanOrEqual(TOLERANCE);
    }
  }

  const exists = (path: string) => access(path).then(() => true, () => false);

  it('should re-rank the file:// input into output_url and --out, and return the same batch when run again', async () => {
    const input = join(shared, 'in', 'requests.jsonl');
    const requests = await requestsFile(input, 40);
    const output = join(shared, 'out', 'results.jsonl');
    const out = join(root, 'local', 'results.jsonl');
    await mkdir(join(root, 'local'));
    const args = ['submit', '--input-url', url(input), '--output-url', url(output), '--out', out, '--api', base, '--interval-ms', '100'];

    const run = await runCli(args);
    expect(run.stderr).toContain(`submitting ${url(input)} by reference to ${base}, results to ${url(output)}\n`);
    const batchId = /^batch (bat-[0-9a-f]{32}): \d+ lines( so far)?, (queued|running|completed)$/m.exec(run.stderr)?.[1];
    expect(batchId).toBeDefined();
    expect(run.stderr).toMatch(/^lines reranked: 40\/40 100% \d+\.\d pairs\/s$/m);
    expect(run.stderr).toContain(`results in ${url(output)} and ${out}: 40 completed, 0 failed, 0 cancelled\n`);
    expect(run.code).toBe(0);
    await expectScores(requests, output);
    await expectScores(requests, out);
    expect(await readFile(out, 'utf8')).toBe(await readFile(output, 'utf8'));

    // The idempotency key is the URLs': the same command names the same (finished) batch.
    const again = await runCli(args);
    expect(again.stderr).toContain(`batch ${batchId}: 40 lines, completed\n`);
    expect(again.code).toBe(0);
    await expectScores(requests, out);
  });

  it('should exit 1 and print the first failures when lines fail, with the results only at output_url', async () => {
    const input = join(shared, 'in', 'some-bad.jsonl');
    const good = { id: 'good', query: 'a query', documents: [passage(), passage()] };
    await writeFile(input, [JSON.stringify(good), JSON.stringify({ id: 'bad', query: 'no documents' }), JSON.stringify({ ...good, id: 'good-2' })].join('\n') + '\n');
    const output = join(shared, 'out', 'some-bad.jsonl');

    const run = await runCli(['submit', '--input-url', url(input), '--output-url', url(output), '--api', base, '--interval-ms', '100']);
    expect(run.stderr).toContain(`results in ${url(output)}: 2 completed, 1 failed, 0 cancelled\n`);
    expect(run.stderr).toMatch(/^ {2}line "bad": \[invalid_request\] .*documents/m);
    expect(run.code).toBe(1);
    const lines = (await readFile(output, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.id, 'error' in line])).toEqual([['good', false], ['bad', true], ['good-2', false]]);
  });

  it("should exit 1 with the service's reason for a URL outside BATCH_URL_PREFIXES or an input that does not exist", async () => {
    await mkdir(join(root, 'outside'), { recursive: true });
    const outsideInput = join(root, 'outside', 'requests.jsonl');
    await requestsFile(outsideInput, 2);
    const insideInput = join(shared, 'in', 'two.jsonl');
    await requestsFile(insideInput, 2);
    const out = join(root, 'never.jsonl');

    const forbiddenInput = await runCli(['submit', '--input-url', url(outsideInput), '--out', out, '--api', base]);
    expect(forbiddenInput.code).toBe(1);
    expect(forbiddenInput.stderr).toMatch(/answered 403: input_url: file:\/\/\/\S+ is not in a location allowed for batch files; the operator sets those with BATCH_URL_PREFIXES \[forbidden\]$/m);

    const forbiddenOutput = await runCli(['submit', '--input-url', url(insideInput), '--output-url', url(join(root, 'outside', 'out.jsonl')), '--api', base]);
    expect(forbiddenOutput.code).toBe(1);
    expect(forbiddenOutput.stderr).toMatch(/answered 403: output_url: .* \[forbidden\]$/m);

    const missing = await runCli(['submit', '--input-url', url(join(shared, 'in', 'missing.jsonl')), '--out', out, '--api', base]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/answered 400: input_url: .*does not exist.* \[invalid_request\]$/m);
    expect(await exists(out)).toBe(false);
  });

  it('should refuse usage that mixes FILE and URL input, options that do not apply, or results that go nowhere', async () => {
    const inputUrl = url(join(shared, 'in', 'requests.jsonl'));
    const usage = async (args: string[], message: string) => {
      const run = await runCli(['submit', ...args, '--api', base]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`rerank-pool submit: ${message}`);
      expect(run.stderr).toContain('\n       rerank-pool submit --input-url URL [--output-url URL] [--out FILE] [--api URL] [--interval-ms N]');
    };
    await usage(['requests.jsonl', '--input-url', inputUrl, '--out', 'x'], 'give an input FILE or --input-url, not both (got requests.jsonl and --input-url)');
    await usage(
      ['--input-url', inputUrl, '--out', 'x', '--format', 'trec', '--topics', 't', '--corpus', 'c', '--k-in', '5', '--model', 'm'],
      '--format trec, --topics, --corpus, --k-in and --model do not apply to --input-url',
    );
    await usage(['--input-url', inputUrl, '--model', 'm', '--out', 'x'], '--model does not apply to --input-url');
    await usage(['--input-url', inputUrl], '--input-url needs --out FILE, --output-url URL or both (else the results go nowhere you named)');
    await usage(['--input-url', join(shared, 'in', 'requests.jsonl'), '--out', 'x'], '--input-url must be a URL (file:///path or s3://bucket/key)');
    await usage(['requests.jsonl', '--out', 'x', '--output-url', inputUrl], '--output-url only applies to --input-url');
  });
});
