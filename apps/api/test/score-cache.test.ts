import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '@rerank-pool/config';
import { synthesizeModel } from '@rerank-pool/model-synth';
import { queueNameForModel } from '@rerank-pool/queue';
import { RerankMetrics } from '@rerank-pool/telemetry';
import { RerankWorker } from '@rerank-pool/worker';
import { startPrivateRedis, type PrivateRedis } from '../../../libs/batches/test/support/private-redis.js';
import { buildApi } from '../src/index.js';
import { ndjson, readResults, waitForBatch } from './helpers/batches.js';
import { connection, deleteKeys, listenOnLoopback, temporaryBatchStore } from './helpers/harness.js';
import { postJson, quietLogger } from './helpers/live-service.js';

/**
 * The pair-score cache end to end: a real API and a real worker (synthetic tiny model), the queue
 * on the shared Redis, the cache on a redis-server of its own with an LRU policy, as deployed.
 */
let cacheRedis: PrivateRedis;
let root: string;
let modelDir: string;
let modelId: string;
let prefix: string;
let config: Config;
let app: FastifyInstance;
let base: string;
let worker: RerankWorker | undefined;
let workerMetrics: RerankMetrics;
let inspector: Queue;
const batchStore = temporaryBatchStore();

const documents = [
  'A cross-encoder reads the query and the passage together.',
  'Bananas are yellow.',
  'Re-ranking reorders the candidates of a first-stage retriever.',
  'The cache keys each pair by model, options, query and document.',
  'Paris is the capital of France.',
];
const query = 'what does a cross-encoder do';

async function startWorker(): Promise<void> {
  workerMetrics = new RerankMetrics({ defaultMetrics: false });
  worker = await RerankWorker.start({ config, logger: quietLogger, metrics: workerMetrics });
}

async function stopWorker(): Promise<void> {
  await worker?.close();
  worker = undefined;
}

async function pairsComputed(): Promise<number> {
  const { values } = await workerMetrics.pairs.get();
  return values.reduce((sum, entry) => sum + entry.value, 0);
}

function rerank(body: Record<string, unknown>) {
  return postJson(base, '/v1/rerank', { query, documents, ...body });
}

/** The ONNX files of a model directory in the Hub layout, relative to it. */
async function onnxFiles(dir: string): Promise<string[]> {
  const top = (await readdir(dir)).filter((name) => name.endsWith('.onnx'));
  const nested = (await readdir(join(dir, 'onnx')).catch(() => [])).filter((name) => name.endsWith('.onnx')).map((name) => join('onnx', name));
  return [...top, ...nested];
}

beforeAll(async () => {
  cacheRedis = await startPrivateRedis({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] });
  root = await mkdtemp(join(tmpdir(), 'rp-score-cache-'));
  modelDir = join(root, 'synthetic-tiny');
  await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 41 });
  modelId = basename(modelDir);
  prefix = `rp-test-cache-${randomBytes(4).toString('hex')}`;
  config = loadConfig({
    BATCH_STORE_URL: batchStore.url,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    SCORE_CACHE_URL: cacheRedis.url,
    QUEUE_PREFIX: prefix,
    RERANK_MODELS: modelDir,
    POOL_THREADS: '1',
    WORKER_CONCURRENCY: '8',
    MAX_BATCH_WAIT_MS: '5',
    HOST: '127.0.0.1',
  });
  await startWorker();
  app = await buildApi({ config, metrics: new RerankMetrics({ defaultMetrics: false }), logger: false });
  base = `http://127.0.0.1:${await listenOnLoopback(app)}`;
  inspector = new Queue(queueNameForModel(modelId), { connection, prefix });
});

afterAll(async () => {
  await inspector?.close();
  await app?.close();
  await stopWorker();
  await deleteKeys(prefix);
  await cacheRedis?.stop();
  await rm(root, { recursive: true, force: true });
  batchStore.remove();
});

describe('when the same request comes twice', () => {
  let first: { results: { index: number; relevance_score: number }[]; meta: { cache?: { hits: number; misses: number } } };

  it('should compute the first and report every pair as a miss', async () => {
    const response = await rerank({});
    expect(response.status).toBe(200);
    first = response.body;
    expect(first.meta.cache).toEqual({ hits: 0, misses: documents.length });
    expect(await pairsComputed()).toBe(documents.length);
  });

  it('should answer the second from the cache alone, with no worker running and no job queued', async () => {
    await stopWorker();
    const before = await inspector.getJobCounts();
    const response = await rerank({});
    expect(response.status).toBe(200);
    // Bit for bit: toEqual compares the numbers with Object.is semantics for each score.
    expect(response.body.results).toEqual(first.results);
    expect(response.body.meta.cache).toEqual({ hits: documents.length, misses: 0 });
    expect(response.body.meta.tokens).toEqual((first.meta as { tokens: unknown }).tokens);
    expect(await inspector.getJobCounts()).toEqual(before);
  });
});

describe('when only some pairs are cached', () => {
  it('should send only the misses to a worker and merge them in input order', async () => {
    await startWorker();
    const extra = ['Kendall tau compares two orderings.', 'Quantized weights take a quarter of the space.'];
    const mixed = [extra[0]!, documents[1]!, extra[1]!, documents[3]!];
    const response = await postJson(base, '/v1/rerank', { query, documents: mixed });
    expect(response.status).toBe(200);
    expect(response.body.meta.cache).toEqual({ hits: 2, misses: 2 });
    expect(await pairsComputed()).toBe(2);
    // The same documents computed from scratch (cache bypassed) score identically.
    const fresh = await postJson(base, '/v1/rerank', { query, documents: mixed, cache: false });
    expect(fresh.body.meta.cache).toBeUndefined();
    expect(await pairsComputed()).toBe(2 + mixed.length);
    const byIndex = (body: { results: { index: number; relevance_score: number }[] }) =>
      Object.fromEntries(body.results.map((result) => [result.index, result.relevance_score]));
    expect(byIndex(response.body)).toEqual(byIndex(fresh.body));
  });

  it('should keep options that change a score apart: another max_tokens_per_doc misses', async () => {
    const computed = await pairsComputed();
    const response = await rerank({ max_tokens_per_doc: 4 });
    expect(response.body.meta.cache).toEqual({ hits: 0, misses: documents.length });
    expect(await pairsComputed()).toBe(computed + documents.length);
  });
});

describe('when an async job asks for cached pairs', () => {
  it('should be answered by its worker from the cache', async () => {
    const computed = await pairsComputed();
    const accepted = await postJson(base, '/v1/jobs', { query, documents });
    expect(accepted.status).toBe(202);
    let status: { status: string; result?: { meta: { cache?: unknown } } } = { status: 'queued' };
    for (const deadline = Date.now() + 10_000; status.status !== 'completed' && Date.now() < deadline; ) {
      status = (await (await fetch(`${base}/v1/jobs/${accepted.body.id}`)).json()) as typeof status;
      if (status.status !== 'completed') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status.status).toBe('completed');
    expect(status.result?.meta.cache).toEqual({ hits: documents.length, misses: 0 });
    expect(await pairsComputed()).toBe(computed);
  });
});

describe('when the same batch runs twice', () => {
  it('should compute nothing the second time and write identical results', async () => {
    const lines = Array.from({ length: 6 }, (_, i) => ({ id: `q${i}`, query: `batch query ${i}`, documents: documents.slice(i % 3) }));
    const pairs = lines.reduce((sum, line) => sum + line.documents.length, 0);
    const run = async () => {
      const accepted = await app.inject({ method: 'POST', url: '/v1/batches', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(lines) });
      expect(accepted.statusCode).toBe(202);
      expect(await waitForBatch(app, accepted.json().id)).toMatchObject({ completed: lines.length });
      return readResults(app, accepted.json().id);
    };
    const computed = await pairsComputed();
    const first = await run();
    expect(await pairsComputed()).toBe(computed + pairs);
    const second = await run();
    expect(await pairsComputed()).toBe(computed + pairs);
    expect(second.map((line) => line.meta.cache)).toEqual(lines.map((line) => ({ hits: line.documents.length, misses: 0 })));
    expect(second.map((line) => line.results)).toEqual(first.map((line) => line.results));
  });
});

describe('when the model file changes', () => {
  it('should miss every pair: the cache knows models by the bytes of their files', async () => {
    await stopWorker();
    const other = join(root, 'other-weights');
    await synthesizeModel({ preset: 'tiny', outDir: other, seed: 42 });
    for (const file of await onnxFiles(other)) await copyFile(join(other, file), join(modelDir, file));
    await startWorker();
    // The API reads the identity workers announce at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const response = await rerank({});
    expect(response.status).toBe(200);
    expect(response.body.meta.cache).toEqual({ hits: 0, misses: documents.length });
    expect(await pairsComputed()).toBe(documents.length);
  });
});

describe('when the API is scraped', () => {
  it('should export hits, misses and the hit ratio', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}\\{model="${modelId}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    // API lookups: 5 misses, 5 hits, 2 + 2, 5 misses (max_tokens_per_doc), 5 misses (new model).
    expect(value('rerank_cache_hits_total')).toBe(7);
    expect(value('rerank_cache_misses_total')).toBe(17);
    expect(value('rerank_cache_hit_ratio')).toBeCloseTo(7 / 24, 10);
  });
});
