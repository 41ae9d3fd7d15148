import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, readResults, waitForBatch } from './helpers/batches.js';
import { postJson, startLiveService, type LiveService } from './helpers/live-service.js';

/**
 * Issue 14 end to end: a real API and a real worker (synthetic tiny model, one thread per lane,
 * two job slots per queue), an offline batch holding every line slot and the batch lane, and sync
 * requests sent during it. Orderings and counts only: how fast is `rerank-pool bench`'s `mixed`
 * section's to report.
 */
let service: LiveService;

const LINES = 120;
const MAX_PROBES = 200;
const lineDocuments = (i: number) => Array.from({ length: 150 }, (_, d) => `line ${i} passage ${d} ${'about re-ranking and batches '.repeat(1 + (d % 6))}`);
const probeDocuments = Array.from({ length: 20 }, (_, d) => `probe passage ${d} ${'on latency '.repeat(1 + (d % 4))}`);

async function counter(read: () => Promise<{ values: { value: number }[] }>): Promise<number> {
  return (await read()).values.reduce((sum, entry) => sum + entry.value, 0);
}

beforeAll(async () => {
  service = await startLiveService({ env: { WORKER_CONCURRENCY: '2', MAX_BATCH_WAIT_MS: '5' } });
});

afterAll(async () => {
  await service?.close();
});

describe('when an offline batch saturates the worker', () => {
  it('should serve interactive requests while the batch keeps running, and settle every line once', async () => {
    const idle = await postJson(service.base, '/v1/rerank', { query: 'probe', documents: probeDocuments });
    expect(idle.status).toBe(200);

    const lines = Array.from({ length: LINES }, (_, i) => ({ id: `l${i}`, query: `query ${i}`, documents: lineDocuments(i) }));
    const accepted = await service.app.inject({ method: 'POST', url: '/v1/batches', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(lines) });
    expect(accepted.statusCode).toBe(202);
    const { id } = accepted.json();
    const status = async () => (await service.app.inject({ method: 'GET', url: `/v1/batches/${id}` })).json();
    // The batch is under way: lines hold both job slots and the pool.
    for (let s = await status(); s.completed < 2; s = await status()) await new Promise((resolve) => setTimeout(resolve, 10));
    const before = await status();

    // At least 5 requests, and on until a line has finished meanwhile (bounded).
    const answers = [];
    while (answers.length < 5 || (answers.length < MAX_PROBES && (await status()).completed <= before.completed)) {
      answers.push(await postJson(service.base, '/v1/rerank', { query: 'probe', documents: probeDocuments }));
    }
    const after = await status();

    for (const answer of answers) {
      expect(answer.status).toBe(200);
      // Batched with batch lines or alone, a pair scores the same.
      expect(answer.body.results).toEqual(idle.body.results);
    }
    // The batch ran on meanwhile, and was still running when the last request was answered.
    expect(after.completed).toBeGreaterThan(before.completed);
    expect(after.completed).toBeLessThan(LINES);
    // The requests ran while batch-lane batches did: on threads of their own, not behind them.
    expect(await counter(() => service.workerMetrics.interactiveRowsBehindBatch.get())).toBeGreaterThan(0);

    const done = await waitForBatch(service.app, id, {}, 60_000);
    expect(done).toMatchObject({ status: 'completed', completed: LINES, failed: 0 });
    const results = await readResults(service.app, id);
    expect(results.map((line) => line.id).sort()).toEqual(lines.map((line) => line.id).sort());

    const waits = (await service.workerMetrics.queueWait.get()).values.filter((entry) => entry.metricName?.endsWith('_count'));
    const count = (priority: string) => waits.filter((entry) => entry.labels.priority === priority).reduce((sum, entry) => sum + entry.value, 0);
    expect(count('interactive')).toBe(1 + answers.length);
    // No line gave its slot up for a request (lines have slots of their own): each started once.
    expect(count('batch_line')).toBe(LINES);
  });
});
