import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsServer, parseExposition, RerankMetrics, sampleSum } from '@rerank-pool/telemetry';
import type { QueueDepth } from '@rerank-pool/telemetry';

const SERIES = [
  'rerank_queue_jobs',
  'rerank_queue_pending_jobs',
  'rerank_queue_wait_seconds',
  'rerank_inference_seconds',
  'rerank_request_duration_seconds',
  'rerank_batch_rows',
  'rerank_batch_tokens',
  'rerank_batch_padding_efficiency',
  'rerank_pairs_total',
  'rerank_tokens_total',
  'rerank_errors_total',
  'rerank_jobs_stalled_total',
  'rerank_results_discarded_total',
  'rerank_interactive_rows_behind_batch_total',
  'rerank_pool_utilization_ratio',
  'process_cpu_seconds_total',
  'nodejs_eventloop_lag_seconds',
];

const depth = (model: string, waiting: number): QueueDepth => ({
  model,
  states: { waiting, prioritized: 3, active: 2, delayed: 1 },
  pendingByPriority: { interactive: 2, batch: 1 },
});

describe('when the registry is scraped', () => {
  it('should declare every named series, with process metrics', async () => {
    const text = await new RerankMetrics().metrics();
    for (const name of SERIES) expect(text).toContain(`# TYPE ${name} `);
  });

  it('should read queue counts and pool utilization from their sources at scrape time', async () => {
    const metrics = new RerankMetrics({ defaultMetrics: false });
    let waiting = 5;
    const removeQueues = metrics.addQueueDepthSource(async () => [depth('m1', waiting), depth('m2', 0)]);
    metrics.addPoolUtilizationSource(() => [{ model: 'm1', lane: 'interactive', ratio: 0.25 }]);

    let samples = parseExposition(await metrics.metrics());
    expect(sampleSum(samples, 'rerank_queue_jobs', { model: 'm1', state: 'waiting' })).toBe(5);
    expect(sampleSum(samples, 'rerank_queue_jobs', { model: 'm1', state: 'prioritized' })).toBe(3);
    expect(sampleSum(samples, 'rerank_queue_jobs', { model: 'm2', state: 'waiting' })).toBe(0);
    expect(sampleSum(samples, 'rerank_queue_pending_jobs', { model: 'm1', priority: 'interactive' })).toBe(2);
    expect(sampleSum(samples, 'rerank_pool_utilization_ratio', { model: 'm1' })).toBe(0.25);

    waiting = 9;
    samples = parseExposition(await metrics.metrics());
    expect(sampleSum(samples, 'rerank_queue_jobs', { model: 'm1', state: 'waiting' })).toBe(9);
    removeQueues();
    samples = parseExposition(await metrics.metrics());
    expect(sampleSum(samples, 'rerank_queue_jobs')).toBeUndefined();
  });

  it('should drop the queue series but still answer when Redis is slow or failing', async () => {
    const metrics = new RerankMetrics({ defaultMetrics: false, sampleTimeoutMs: 50 });
    metrics.addQueueDepthSource(() => new Promise(() => {}));
    let samples = parseExposition(await metrics.metrics());
    expect(sampleSum(samples, 'rerank_queue_jobs')).toBeUndefined();
    expect(sampleSum(samples, 'rerank_queue_sample_errors_total')).toBe(1);

    const failing = new RerankMetrics({ defaultMetrics: false });
    failing.addQueueDepthSource(() => Promise.reject(new Error('connection refused')));
    samples = parseExposition(await failing.metrics());
    expect(sampleSum(samples, 'rerank_queue_sample_errors_total')).toBe(1);
  });

  it('should record a batch in every batch series', async () => {
    const metrics = new RerankMetrics({ registry: new Registry(), defaultMetrics: false });
    metrics.observeBatch('m1', { rows: 8, realTokens: 900, paddedTokens: 1000, durationMs: 40 });
    const samples = parseExposition(await metrics.metrics());
    expect(sampleSum(samples, 'rerank_pairs_total', { model: 'm1' })).toBe(8);
    expect(sampleSum(samples, 'rerank_tokens_total', { model: 'm1' })).toBe(900);
    expect(sampleSum(samples, 'rerank_batch_rows_sum', { model: 'm1' })).toBe(8);
    expect(sampleSum(samples, 'rerank_batch_tokens_sum', { model: 'm1' })).toBe(1000);
    expect(sampleSum(samples, 'rerank_batch_padding_efficiency_sum', { model: 'm1' })).toBeCloseTo(0.9);
    expect(sampleSum(samples, 'rerank_inference_seconds_sum', { model: 'm1' })).toBeCloseTo(0.04);
    expect(sampleSum(samples, 'rerank_inference_seconds_bucket', { model: 'm1', le: '0.05' })).toBe(1);
  });
});

describe('when a process serves its metrics on a port', () => {
  let server: MetricsServer | undefined;

  afterEach(async () => {
    await server?.close();
  });

  it('should answer /metrics and /healthz, 503 once unhealthy, 404 and 405 otherwise', async () => {
    const metrics = new RerankMetrics({ defaultMetrics: false });
    metrics.pairs.inc({ model: 'm1' }, 3);
    let healthy = true;
    server = await MetricsServer.start({ metrics, port: 0, host: '127.0.0.1', healthy: () => healthy });
    const base = `http://127.0.0.1:${server.port}`;

    const scrape = await fetch(`${base}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sampleSum(parseExposition(await scrape.text()), 'rerank_pairs_total', { model: 'm1' })).toBe(3);

    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    healthy = false;
    const draining = await fetch(`${base}/healthz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({ status: 'draining' });
    expect((await fetch(`${base}/other`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);

    await server.close();
    await server.close();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('should refuse a port outside 0..65535, naming it', async () => {
    await expect(MetricsServer.start({ metrics: new RerankMetrics({ defaultMetrics: false }), port: 70000, healthy: () => true })).rejects.toThrow(
      /port must be an integer 0\.\.65535, got 70000/,
    );
  });
});
