import { openObjectStore } from '@rerank-pool/object-store';
import type { ObjectStore } from '@rerank-pool/object-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server } from '../../object-store/test/support/s3-server.js';
import type { S3Server } from '../../object-store/test/support/s3-server.js';
import { batchFixture, requestLine, scoreOf } from './support/batch-fixture.js';
import type { BatchFixture } from './support/batch-fixture.js';

let s3: S3Server;
let fixture: BatchFixture;
let store: ObjectStore;

beforeAll(async () => {
  s3 = await startS3Server();
  fixture = await batchFixture();
  store = openObjectStore(`s3://${s3.bucket}/rerank-pool/`, { env: s3.env });
});

afterAll(async () => {
  await fixture.close();
  await store.close();
  await s3.close();
});

async function text(key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.read(key)) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function keys(prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const key of store.list(prefix)) found.push(key);
  return found;
}

const lines = Array.from({ length: 600 }, (_, n) => requestLine(n));

describe('when the batch store is an S3 bucket', () => {
  it('should keep an upload in the bucket, survive a restart of its driver mid-run and write the results there', async () => {
    const first = fixture.service({ store, env: s3.env, partLines: 100, windowLines: 100, feedChunkLines: 20, resultsPartLines: 50 });
    first.startDriving();
    const batchId = await fixture.upload(first, lines, 's3-upload');
    expect((await keys(`batches/${batchId}/input/`)).length).toBe(6);
    const worker = fixture.worker({ delayMs: 3 });
    while ((await first.status(batchId, 'default')).completed < 150) await new Promise((resolve) => setTimeout(resolve, 20));
    // Results parts are in the bucket while the batch runs.
    expect((await keys(`batches/${batchId}/results-parts/`)).length).toBeGreaterThan(0);
    await first.close();

    const second = fixture.service({ store, env: s3.env, windowLines: 100 });
    second.startDriving();
    const state = await fixture.waitFinished(second, batchId);
    expect(state).toMatchObject({ total: 600, completed: 600 });
    const written = (await text(`batches/${batchId}/results.ndjson`)).trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(written.map((line) => line.id)).toEqual(lines.map((_, n) => `line-${n}`));
    expect(await fixture.results(second, batchId)).toEqual(written);
    // The input parts go once the results are written (just after the batch reads finished).
    for (const deadline = Date.now() + 5000; (await keys(`batches/${batchId}/input/`)).length > 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await keys(`batches/${batchId}/`)).toEqual([`batches/${batchId}/results.ndjson`]);
    await worker.close();
  });

  it('should run a batch whose input and output are objects in a bucket', async () => {
    const service = fixture.service({ store, env: s3.env, urlPrefixes: [`s3://${s3.bucket}/team-a/`] });
    service.startDriving();
    fixture.worker();
    const data = openObjectStore(`s3://${s3.bucket}/`, { env: s3.env });
    await data.put('team-a/in.jsonl', `${lines.join('\n')}\n`);
    const inputUrl = `s3://${s3.bucket}/team-a/in.jsonl`;
    const outputUrl = `s3://${s3.bucket}/team-a/out/results.jsonl`;
    await expect(service.createByReference({ tenant: 'default' }, { inputUrl: `s3://${s3.bucket}/team-b/in.jsonl` })).rejects.toMatchObject({ code: 'forbidden' });
    const batchId = await service.createByReference({ tenant: 'default' }, { inputUrl, outputUrl });
    const state = await fixture.waitFinished(service, batchId);
    expect(state).toMatchObject({ total: 600, completed: 600, resultsRef: outputUrl });
    const chunks: Buffer[] = [];
    for await (const chunk of await data.read('team-a/out/results.jsonl')) chunks.push(chunk);
    const written = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(written).toHaveLength(600);
    expect(written[599]).toMatchObject({ id: 'line-599', index: 599 });
    expect(written[599].results[0].relevance_score).toBe(scoreOf('q599', 1));
    await data.close();
  });
});
