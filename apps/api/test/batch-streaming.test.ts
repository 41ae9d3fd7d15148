import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import type { ClientRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, listenOnLoopback, startFixedScoreConsumer } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';
import { readResults, waitForBatch } from './helpers/batches.js';

let harness: Harness;
let port: number;

beforeAll(async () => {
  harness = await createHarness();
  port = await listenOnLoopback(harness.app);
});

afterAll(async () => {
  await harness.close();
});

/** About 6 KB a line, so the first 8 MiB input part is stored after about 1,400 lines. */
const PADDING = 'passage text '.repeat(450);

function line(i: number): string {
  return `${JSON.stringify({ id: `q${i}`, query: `query ${i}`, documents: [`${(i % 90) + 5} a ${PADDING}`, `${(i % 7) + 1} b`] })}\n`;
}

function lines(from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) text += line(i);
  return text;
}

/** Input parts stored so far, over every batch of this harness. */
async function storedParts(): Promise<number> {
  const entries = await readdir(harness.batchStoreDir, { recursive: true });
  return entries.filter((entry) => /input\/\d+-.*\.ndjson$/.test(entry)).length;
}

/** An NDJSON upload written in parts by the test, over a real connection. */
function openUpload(path = '/v1/batches'): { req: ClientRequest; response: Promise<{ status: number; body: any }> } {
  const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/x-ndjson' } });
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
  return { req, response };
}

async function until(predicate: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('when an NDJSON upload is streamed', () => {
  it('should store it while the body is still arriving and queue nothing before it ends', async () => {
    const before = await storedParts();
    const { req, response } = openUpload();
    req.write(lines(0, 1500));
    // The first part is in the batch store before the client has sent the rest of the body.
    await until(async () => (await storedParts()) > before);
    expect(await harness.jobCount()).toBe(0);
    req.end(lines(1500, 2000));
    const { status, body } = await response;
    expect(status).toBe(202);
    expect(body.total).toBe(2000);
  });
});

describe('when an upload with an idempotency key is cut off and sent again', () => {
  it('should continue the same batch and compute every line once, in input order', async () => {
    const path = '/v1/batches?idempotency_key=run-2024-06-01';
    const before = await storedParts();
    const cut = openUpload(path);
    cut.response.catch(() => undefined);
    cut.req.write(lines(0, 1600));
    await until(async () => (await storedParts()) > before);
    cut.req.destroy();

    // The server may still hold the upload for a moment: a client retries on batch_busy.
    let resent: { statusCode: number; json(): any } | undefined;
    await until(async () => {
      resent = await harness.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-ndjson' }, payload: lines(0, 3000) });
      return resent.statusCode !== 409;
    });
    expect(resent!.statusCode).toBe(202);
    const { id, total } = resent!.json();
    expect(total).toBe(3000);

    const again = await harness.app.inject({ method: 'POST', url: '/v1/batches', headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': 'run-2024-06-01' }, payload: lines(0, 3000) });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ id, total: 3000 });

    const computed: string[] = [];
    const consumer = startFixedScoreConsumer(harness.prefix);
    consumer.onCompleted((job) => job.id!.startsWith(id) && computed.push(job.id!));
    try {
      expect(await waitForBatch(harness.app, id, {}, 60_000)).toMatchObject({ completed: 3000, failed: 0, pairs: { total: 6000, completed: 6000 } });
    } finally {
      await consumer.close();
    }
    expect(computed.length).toBe(3000);
    expect(new Set(computed).size).toBe(3000);
    const results = await readResults(harness.app, id);
    expect(results.map((result) => result.id)).toEqual(Array.from({ length: 3000 }, (_, i) => `q${i}`));
    results.forEach((result, i) => {
      expect(result.index).toBe(i);
      const scores = [((i % 90) + 5) / 100, ((i % 7) + 1) / 100];
      expect(result.results).toEqual(scores.map((score, index) => ({ index, relevance_score: score })).sort((a, b) => b.relevance_score - a.relevance_score));
    });
  });
});
