import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerMemoryLimitBytes, MAX_BATCH_PROGRESS_SERIES, parseExposition, RerankMetrics, sampleSum } from '@rerank-pool/telemetry';
import type { BatchProgress, QueueDepth } from '@rerank-pool/telemetry';

const depth = (model: string, overrides: Partial<QueueDepth> = {}): QueueDepth => ({
  model,
  states: { waiting: 0, prioritized: 3, active: 0, delayed: 0 },
  pendingByPriority: { interactive: 2, batch: 1 },
  ...overrides,
});

const scrape = async (metrics: RerankMetrics) => parseExposition(await metrics.metrics());

describe('when the queue sources report ages and live workers', () => {
  it('should export the oldest waiting job per model and priority, and the live workers per model', async () => {
    const metrics = new RerankMetrics({ defaultMetrics: false });
    metrics.addQueueDepthSource(async () => [depth('m1', { oldestPendingAgeSecondsByPriority: { interactive: 1.5 }, liveWorkers: 0 }), depth('m2')]);
    const samples = await scrape(metrics);
    expect(sampleSum(samples, 'rerank_queue_oldest_pending_age_seconds', { model: 'm1', priority: 'interactive' })).toBe(1.5);
    expect(sampleSum(samples, 'rerank_queue_oldest_pending_age_seconds', { model: 'm1', priority: 'batch' })).toBeUndefined();
    expect(sampleSum(samples, 'rerank_queue_live_workers', { model: 'm1' })).toBe(0);
    // A source that does not read heartbeats reports no worker count rather than 0.
    expect(sampleSum(samples, 'rerank_queue_live_workers', { model: 'm2' })).toBeUndefined();
  });
});

describe('when batches are unfinished', () => {
  const batch = (id: number, status: string): BatchProgress => ({ batchId: `batch_${id}`, status, settledLines: id, totalLines: 1000 });

  it('should count them by status and give per-batch lines to running batches only', async () => {
    const metrics = new RerankMetrics({ defaultMetrics: false });
    metrics.operations.addBatchProgressSource(async () => [batch(1, 'queued'), batch(2, 'running'), batch(3, 'finalizing')]);
    const samples = await scrape(metrics);
    expect(sampleSum(samples, 'rerank_batches', { status: 'queued' })).toBe(1);
    expect(sampleSum(samples, 'rerank_batches', { status: 'running' })).toBe(1);
    expect(sampleSum(samples, 'rerank_batches', { status: 'finalizing' })).toBe(1);
    expect(samples.filter((sample) => sample.name === 'rerank_batch_settled_lines')).toEqual([{ name: 'rerank_batch_settled_lines', labels: { batch_id: 'batch_2' }, value: 2 }]);
    expect(sampleSum(samples, 'rerank_batch_total_lines', { batch_id: 'batch_2' })).toBe(1000);
  });

  it(`should bound the per-batch series to the ${MAX_BATCH_PROGRESS_SERIES} oldest running batches`, async () => {
    const metrics = new RerankMetrics({ defaultMetrics: false });
    metrics.operations.addBatchProgressSource(async () => Array.from({ length: MAX_BATCH_PROGRESS_SERIES + 30 }, (_, i) => batch(i, 'running')));
    const samples = await scrape(metrics);
    const ids = samples.filter((sample) => sample.name === 'rerank_batch_total_lines').map((sample) => sample.labels.batch_id);
    expect(ids).toHaveLength(MAX_BATCH_PROGRESS_SERIES);
    expect(ids).toContain('batch_0');
    expect(ids).not.toContain(`batch_${MAX_BATCH_PROGRESS_SERIES}`);
    expect(sampleSum(samples, 'rerank_batches', { status: 'running' })).toBe(MAX_BATCH_PROGRESS_SERIES + 30);
  });

  it('should drop the batch series for a scrape whose source fails or hangs, and still answer', async () => {
    const metrics = new RerankMetrics({ defaultMetrics: false, sampleTimeoutMs: 50 });
    const remove = metrics.operations.addBatchProgressSource(() => new Promise(() => {}));
    expect(sampleSum(await scrape(metrics), 'rerank_batches')).toBeUndefined();
    remove();
    metrics.operations.addBatchProgressSource(() => Promise.reject(new Error('connection refused')));
    expect(sampleSum(await scrape(metrics), 'rerank_batches')).toBeUndefined();
  });
});

describe('when probing Redis', () => {
  it('should read 1 when every probe answers, 0 when one fails, times out or says no, and nothing without a probe', async () => {
    const metrics = new RerankMetrics({ defaultMetrics: false, sampleTimeoutMs: 50 });
    expect(sampleSum(await scrape(metrics), 'rerank_redis_up')).toBeUndefined();
    metrics.operations.addRedisProbe(async () => true);
    expect(sampleSum(await scrape(metrics), 'rerank_redis_up')).toBe(1);
    for (const failing of [async () => false, () => Promise.reject(new Error('ECONNREFUSED')), () => new Promise<boolean>(() => {})]) {
      const remove = metrics.operations.addRedisProbe(failing);
      expect(sampleSum(await scrape(metrics), 'rerank_redis_up')).toBe(0);
      remove();
    }
  });
});

describe('when a worker reports its models and webhook outcomes', () => {
  it('should export one info series per model and dtype', async () => {
    const metrics = new RerankMetrics({ defaultMetrics: false });
    metrics.operations.addLoadedModelSource(() => [
      { model: 'minilm', dtype: 'int8' },
      { model: 'bge', dtype: 'float32' },
    ]);
    const samples = await scrape(metrics);
    expect(sampleSum(samples, 'rerank_model_info', { model: 'minilm', dtype: 'int8' })).toBe(1);
    expect(sampleSum(samples, 'rerank_model_info', { model: 'bge', dtype: 'float32' })).toBe(1);
  });

  it('should start every webhook outcome at 0 and count attempts', async () => {
    const metrics = new RerankMetrics({ defaultMetrics: false });
    metrics.operations.startWebhookCounts();
    metrics.operations.countWebhookOutcome('failed');
    metrics.operations.countWebhookOutcome('given_up');
    const samples = await scrape(metrics);
    expect(sampleSum(samples, 'rerank_webhook_deliveries_total', { outcome: 'delivered' })).toBe(0);
    expect(sampleSum(samples, 'rerank_webhook_deliveries_total', { outcome: 'failed' })).toBe(1);
    expect(sampleSum(samples, 'rerank_webhook_deliveries_total', { outcome: 'given_up' })).toBe(1);
  });
});

describe('when reading the container memory limit', () => {
  const cgroup = (files: Record<string, string>) => {
    const root = mkdtempSync(join(tmpdir(), 'cgroup-'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  };

  it('should read cgroup v2, then v1, in bytes', () => {
    expect(containerMemoryLimitBytes(cgroup({ 'memory.max': '2147483648\n' }))).toBe(2147483648);
    expect(containerMemoryLimitBytes(cgroup({ 'memory/memory.limit_in_bytes': '1073741824\n' }))).toBe(1073741824);
  });

  it('should read no limit as +Inf: cgroup v2 "max", the v1 sentinel, or no cgroup file', () => {
    expect(containerMemoryLimitBytes(cgroup({ 'memory.max': 'max\n' }))).toBe(Number.POSITIVE_INFINITY);
    expect(containerMemoryLimitBytes(cgroup({ 'memory/memory.limit_in_bytes': '9223372036854771712\n' }))).toBe(Number.POSITIVE_INFINITY);
    expect(containerMemoryLimitBytes(cgroup({}))).toBe(Number.POSITIVE_INFINITY);
  });
});
