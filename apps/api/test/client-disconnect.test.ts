import { request } from 'node:http';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueNameForModel } from '@rerank-pool/queue';
import { connection } from './helpers/harness.js';
import { postJson, startLiveService } from './helpers/live-service.js';
import type { LiveService } from './helpers/live-service.js';

/**
 * Rows of a lone small job wait this long in the batcher for company, and one job runs at a time
 * (WORKER_CONCURRENCY 1): a job stays active with none of its rows run for that long, and the
 * next request's job stays queued behind it.
 */
const BATCH_WAIT_MS = 1500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request on its own socket that the test can cut, as a client that goes away does. */
function openRequest(base: string, path: string, body: unknown): { gone: Promise<void>; cut(): void } {
  const payload = JSON.stringify(body);
  const req = request(`${base}${path}`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } });
  const gone = new Promise<void>((resolve) => req.on('close', () => resolve()));
  req.on('error', () => {});
  req.on('response', () => {
    throw new Error(`${path} was answered; the test meant to cut it first`);
  });
  req.end(payload);
  return { gone, cut: () => req.destroy() };
}

describe('when the client of a synchronous rerank disconnects before its answer', () => {
  let live: LiveService;
  let inspector: Queue;
  let rowsRun = 0;

  const documents = (count: number) => Array.from({ length: count }, (_, i) => `passage ${i} about the query`);

  /** The id of the one job in `states`, once there is one. */
  const soleJobIn = async (states: ('active' | 'waiting' | 'prioritized')[]): Promise<string> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const jobs = await inspector.getJobs(states);
      if (jobs.length === 1 && jobs[0]!.id) return jobs[0]!.id;
      if (Date.now() > deadline) throw new Error(`no single job in ${states.join('/')} (found ${jobs.length})`);
      await sleep(10);
    }
  };

  const statusOf = async (jobId: string, wanted: string): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const body = (await (await fetch(`${live.base}/v1/jobs/${jobId}`)).json()) as Record<string, unknown>;
      if (body.status === wanted) return body;
      if (Date.now() > deadline) throw new Error(`job ${jobId} did not read ${wanted}: ${JSON.stringify(body)}`);
      await sleep(20);
    }
  };

  beforeAll(async () => {
    live = await startLiveService({ env: { WORKER_CONCURRENCY: '1', MAX_BATCH_WAIT_MS: String(BATCH_WAIT_MS) } });
    live.worker.onBatch((_model, stats) => {
      rowsRun += stats.rows;
    });
    inspector = new Queue(queueNameForModel(live.modelId), { connection, prefix: live.config.queuePrefix });
  });

  afterAll(async () => {
    await inspector?.close();
    await live?.close();
  });

  it('should cancel its job, queued or running, and never run the rows not yet batched', async () => {
    // Running: a Cohere v1 request whose job the worker has taken, its rows waiting in the batcher.
    const running = openRequest(live.base, '/v1/rerank', { query: 'which passage', documents: documents(10) });
    const runningId = await soleJobIn(['active']);
    // Queued behind it: a TEI request.
    const queued = openRequest(live.base, '/rerank', { query: 'which passage', texts: documents(6) });
    const queuedId = await soleJobIn(['waiting', 'prioritized']);

    queued.cut();
    await queued.gone;
    // Removed from the queue behind a tombstone.
    expect(await statusOf(queuedId, 'cancelled')).toMatchObject({ id: queuedId, status: 'cancelled' });
    expect(await inspector.getJob(queuedId)).toBeUndefined();

    running.cut();
    await running.gone;
    // Stopped by its worker: cancelled, with one attempt made and none to come.
    expect(await statusOf(runningId, 'cancelled')).toMatchObject({ id: runningId, status: 'cancelled', error: { code: 'cancelled' } });
    const stopped = (await inspector.getJob(runningId))!;
    expect(stopped.attemptsMade).toBe(1);
    expect(await inspector.getJobState(runningId)).toBe('failed');

    // Past the batcher's wait: the waiting rows were dropped, not merely not run yet.
    await sleep(BATCH_WAIT_MS + 300);
    expect(rowsRun).toBe(0);

    // The worker is free: the next request is answered, and only its rows run.
    const next = await postJson(live.base, '/v2/rerank', { query: 'which passage', documents: documents(4) });
    expect(next.status).toBe(200);
    expect(next.body.results).toHaveLength(4);
    expect(rowsRun).toBe(4);
  });
});
