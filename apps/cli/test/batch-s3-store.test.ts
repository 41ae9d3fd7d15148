import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openObjectStore } from '@rerank-pool/object-store';
import type { ObjectStore } from '@rerank-pool/object-store';
import { synthesizeModel } from '@rerank-pool/model-synth';
import { deleteKeysWithPrefix } from '@rerank-pool/queue';
import { startS3Server } from '../../../libs/object-store/test/support/s3-server.js';
import type { S3Server } from '../../../libs/object-store/test/support/s3-server.js';
import { runCli } from './run-cli.js';
import { freePort, startApiProcess, startWorkerProcess } from './support/service-processes.js';
import type { ServiceProcess } from './support/service-processes.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The batch store on an S3-protocol server, as a deployment runs it: `rerank-pool api` and
 * `rerank-pool worker` processes configured only through BATCH_STORE_URL and the standard AWS_*
 * variables, driven by `rerank-pool submit`.
 */
describe('when the API keeps its batches in an S3 bucket', () => {
  let s3: S3Server;
  let root: string;
  let bucket: ObjectStore;
  let base: string;
  const prefix = `rp-test-s3-${randomBytes(4).toString('hex')}`;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    s3 = await startS3Server();
    root = await mkdtemp(join(tmpdir(), 'rp-s3-batches-'));
    const modelDir = join(root, 'synthetic-tiny');
    await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 23 });
    bucket = openObjectStore(`s3://${s3.bucket}/`, { env: s3.env });
    const env = {
      ...s3.env,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      RERANK_MODELS: modelDir,
      POOL_THREADS: '1',
      BATCH_STORE_URL: `s3://${s3.bucket}/batches`,
      BATCH_URL_PREFIXES: `s3://${s3.bucket}/team/`,
      LOG_LEVEL: 'warn',
    };
    const port = await freePort();
    processes.push(await startWorkerProcess(env));
    processes.push(await startApiProcess(env, port));
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    for (const proc of processes) await proc.stop();
    await bucket?.close();
    await s3?.close();
    const redis = new Redis(REDIS_URL);
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
    await rm(root, { recursive: true, force: true });
  });

  const requests = Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, query: `question ${i}`, documents: [`passage ${i} one`, `passage ${i} two`, `passage ${i} three`] }));

  it('should store an upload in the bucket and serve its results', async () => {
    const file = join(root, 'requests.jsonl');
    await writeFile(file, requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const out = join(root, 'upload-results.jsonl');
    const run = await runCli(['submit', file, '--out', out, '--interval-ms', '100'], { RERANK_POOL_URL: base });
    expect(run.stderr).toContain('300 completed, 0 failed, 0 cancelled');
    expect(run.code).toBe(0);
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((line) => line.id)).toEqual(requests.map((request) => request.id));
    const batchId = /batch (bat-[0-9a-f]{32})/.exec(run.stderr)![1]!;
    const keys: string[] = [];
    for await (const key of bucket.list(`batches/batches/${batchId}/`)) keys.push(key);
    expect(keys).toContain(`batches/batches/${batchId}/results.ndjson`);
  });

  it('should read a by-reference input from the bucket and write the results there', async () => {
    await bucket.put('team/in.jsonl', requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const run = await runCli(['submit', '--input-url', `s3://${s3.bucket}/team/in.jsonl`, '--output-url', `s3://${s3.bucket}/team/out.jsonl`, '--interval-ms', '100'], {
      RERANK_POOL_URL: base,
    });
    expect(run.code).toBe(0);
    const chunks: Buffer[] = [];
    for await (const chunk of await bucket.read('team/out.jsonl')) chunks.push(chunk);
    const lines = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.id, line.index, line.results.length])).toEqual(requests.map((request, i) => [request.id, i, 3]));

    const outside = await runCli(['submit', '--input-url', `s3://${s3.bucket}/other/in.jsonl`, '--output-url', `s3://${s3.bucket}/team/x.jsonl`], { RERANK_POOL_URL: base });
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain('[forbidden]');
  });
});
