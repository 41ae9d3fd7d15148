import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardExpressions, promqlMetricNames, ruleExpressions, withGrafanaDurations } from '@rerank-pool/deploy-manifests';
import { parseExposition, sampleSum } from '@rerank-pool/telemetry';
import type { MetricSample } from '@rerank-pool/telemetry';
import { postJson, startLiveService } from './helpers/live-service.js';
import type { LiveService } from './helpers/live-service.js';

/** The series names a text exposition declares: each `# TYPE`, with its histogram or summary suffixes. */
function declaredSeries(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

async function scrape(url: string): Promise<{ text: string; samples: MetricSample[] }> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  const text = await response.text();
  return { text, samples: parseExposition(text) };
}

let live: LiveService;
let api: { text: string; samples: MetricSample[] };
let worker: { text: string; samples: MetricSample[] };

beforeAll(async () => {
  live = await startLiveService({ workerMetricsPort: 0 });
  const answer = await postJson(live.base, '/v1/rerank', { model: live.modelId, query: 'what is a cat', documents: ['a cat is a small animal', 'the sky is blue'] });
  expect(answer.status).toBe(200);
  api = await scrape(`${live.base}/metrics`);
  worker = await scrape(`http://127.0.0.1:${live.worker.metricsPort}/metrics`);
});

afterAll(async () => {
  await live?.close();
});

describe('when the dashboards and alert rules are checked against a running API and worker', () => {
  it('should find every rerank_* series they name on one of the two /metrics', () => {
    const exported = new Set([...declaredSeries(api.text), ...declaredSeries(worker.text)]);
    const missing = [...dashboardExpressions(), ...ruleExpressions()].flatMap(({ source, expr }) =>
      promqlMetricNames(withGrafanaDurations(expr))
        .filter((name) => name.startsWith('rerank_') && !exported.has(name))
        .map((name) => `${source}: ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it('should know a name no process exports, so the check can fail', () => {
    const exported = declaredSeries(api.text);
    expect(exported.has('rerank_pairs_total')).toBe(true);
    expect(exported.has('rerank_request_duration_seconds_bucket')).toBe(true);
    expect(exported.has('rerank_no_such_series')).toBe(false);
  });

  it('should report the live worker, Redis reachability and the memory limit from the API', () => {
    expect(sampleSum(api.samples, 'rerank_queue_live_workers', { model: live.modelId })).toBe(1);
    expect(sampleSum(api.samples, 'rerank_redis_up')).toBe(1);
    // A number of bytes under a cgroup limit, +Inf without one (what Prometheus parses as infinity).
    expect(api.text).toMatch(/^rerank_process_memory_limit_bytes (\+Inf|[1-9]\d*)$/m);
    expect(sampleSum(api.samples, 'rerank_batches', { status: 'running' })).toBe(0);
  });

  it("should report the worker's model with its weight type, its Redis and its scored pairs", () => {
    expect(sampleSum(worker.samples, 'rerank_model_info', { model: live.modelId, dtype: 'float32' })).toBe(1);
    expect(sampleSum(worker.samples, 'rerank_redis_up')).toBe(1);
    expect(sampleSum(worker.samples, 'rerank_pairs_total', { model: live.modelId })).toBe(2);
  });
});
