import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@rerank-pool/config';
import type { RerankJobData } from '@rerank-pool/contracts';
import { createRng, synthesizeModel, syntheticText } from '@rerank-pool/model-synth';
import { RerankQueue } from '@rerank-pool/queue';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { parseExposition, RerankMetrics, sampleSum } from '@rerank-pool/telemetry';
import type { MetricSample } from '@rerank-pool/telemetry';
import { RerankWorker } from '@rerank-pool/worker';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';

const quiet = { info() {}, warn() {}, error() {} };

describe('when a worker serves METRICS_PORT', () => {
  const { prefix, cleanup } = testPrefix('worker-metrics');
  const rng = createRng(9);
  let root: string;
  let modelId: string;
  let worker: RerankWorker;
  let queue: RerankQueue;
  let base: string;

  const job = (documents: string[], options: RerankJobData['options'] = {}): RerankJobData => ({
    v: 1,
    model: modelId,
    query: 'a query',
    documents,
    options,
    priority: 'interactive',
    tenant: 'default',
    createdAt: Date.now(),
  });

  const scrape = async (): Promise<MetricSample[]> => {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    return parseExposition(await response.text());
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-worker-metrics-'));
    const modelDir = join(root, 'synthetic-tiny');
    modelId = basename(modelDir);
    await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 13 });
    // A long batch wait keeps a lone job active for a while: the drain below is observable.
    const config = loadConfig({ REDIS_URL, QUEUE_PREFIX: prefix, RERANK_MODELS: modelDir, POOL_THREADS: '1', MAX_BATCH_WAIT_MS: '400', HOST: '127.0.0.1' });
    worker = await RerankWorker.start({ config, logger: quiet, metrics: new RerankMetrics(), metricsPort: 0 });
    base = `http://127.0.0.1:${worker.metricsPort}`;
    queue = new RerankQueue(modelId, { connection: redisOptionsFromUrl(REDIS_URL), prefix, attempts: 1 });
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.close();
    await cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('should expose the worker series, and move them as jobs run', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    for (const name of ['rerank_pairs_total', 'rerank_tokens_total', 'rerank_batch_rows', 'rerank_batch_tokens', 'rerank_batch_padding_efficiency', 'rerank_inference_seconds', 'rerank_queue_wait_seconds', 'rerank_errors_total', 'rerank_pool_utilization_ratio', 'process_cpu_seconds_total']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(sampleSum(parseExposition(text), 'rerank_pairs_total', { model: modelId })).toBeUndefined();

    const jobs = Array.from({ length: 6 }, () => job(Array.from({ length: 4 }, () => syntheticText(rng, 10 + Math.floor(rng() * 30)))));
    const ids = await Promise.all(jobs.map(async (data) => (await queue.enqueue(data)).jobId));
    const results = await Promise.all(ids.map((id) => queue.waitForResult(id, 4, 30_000)));
    const failing = await queue.enqueue(job([Array.from({ length: 800 }, () => 'word').join(' ')], { truncate: false }));
    await expect(queue.waitForResult(failing.jobId, 1, 30_000)).rejects.toMatchObject({ code: 'input_too_long' });

    const after = await scrape();
    const tokens = results.reduce((sum, result) => sum + result.inputTokens, 0);
    expect(sampleSum(after, 'rerank_pairs_total', { model: modelId })).toBe(24);
    expect(sampleSum(after, 'rerank_tokens_total', { model: modelId })).toBe(tokens);
    expect(sampleSum(after, 'rerank_batch_rows_sum', { model: modelId })).toBe(24);
    expect(sampleSum(after, 'rerank_batch_tokens_sum', { model: modelId })).toBeGreaterThanOrEqual(tokens);
    expect(sampleSum(after, 'rerank_inference_seconds_count', { model: modelId })).toBe(sampleSum(after, 'rerank_batch_rows_count', { model: modelId }));
    expect(sampleSum(after, 'rerank_queue_wait_seconds_count', { model: modelId, priority: 'interactive' })).toBe(7);
    expect(sampleSum(after, 'rerank_errors_total', { code: 'input_too_long' })).toBe(1);
    expect(sampleSum(after, 'rerank_pool_utilization_ratio', { model: modelId })).toBeGreaterThan(0);
  });

  it('should answer /healthz 200 while running and 503 while draining', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const running = await queue.enqueue(job(['a lone document']));
    const result = queue.waitForResult(running.jobId, 1, 30_000);
    while ((await queue.getJob(running.jobId, 'default')).status !== 'active') await new Promise((resolve) => setTimeout(resolve, 10));
    const closing = worker.close();
    const draining = await fetch(`${base}/healthz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({ status: 'draining' });
    await closing;
    // The drain let the active job finish; then the server went away with the worker.
    await expect(result).resolves.toMatchObject({ model: modelId });
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
