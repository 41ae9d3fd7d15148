import { describe, expect, it } from 'vitest';
import { startPrivateRedis } from '../../../libs/batches/test/support/private-redis.js';
import { gradedRequest, queueCounts, seconds, sleep, timedRequest, timeExit, waitUntil } from './support/fault-timing.js';
import type { TimedAnswer, TimedExit } from './support/fault-timing.js';
import { freePort, startApiProcess, startWorkerProcess } from './support/service-processes.js';
import type { ServiceProcess } from './support/service-processes.js';
import { useServiceFixture } from './support/service-fixture.js';

/**
 * Invariant 7 (issue 9): a shutdown ends in bounded time in any state. SIGTERM to real
 * `rerank-pool api` and `rerank-pool worker` processes, with their Redis up or killed, idle or
 * with work in flight; the time is from the signal to the child's exit.
 */
const API_BOUND_MS = 10_000;
const WORKER_DRAIN_MS = 3000;
const WORKER_BOUND_MS = WORKER_DRAIN_MS + 5000;
/** Past its bound a process is killed (so nothing is left behind) and the test fails. */
const CAP_SLACK_MS = 5000;
/**
 * Async jobs that keep a one-thread worker busy for several seconds (and all active to near the
 * end): 4,000 pairs, past WORKER_DRAIN_MS on an idle machine too (tinybert-l2 scores about 1,200
 * pairs/s on one thread there; 1,600 pairs were done within the drain).
 */
const JOBS = 20;
const DOCUMENTS = 200;

const fx = useServiceFixture({ label: 'shutdown-bounds', preset: 'tinybert-l2', seed: 31 });

async function baseEnv(): Promise<Record<string, string>> {
  fx.redis = await startPrivateRedis();
  return {
    REDIS_URL: fx.redis.url,
    RERANK_MODELS: fx.modelDir,
    POOL_THREADS: '1',
    WORKER_DRAIN_MS: String(WORKER_DRAIN_MS),
    // Long enough that no waiting client ends a shutdown by timing out.
    REQUEST_TIMEOUT_MS: '60000',
    LOG_LEVEL: 'warn',
  };
}

async function api(env: Record<string, string>): Promise<{ proc: ServiceProcess; port: number }> {
  const port = await freePort();
  const proc = await startApiProcess(env, port);
  fx.running.push(proc);
  return { proc, port };
}

async function worker(env: Record<string, string>): Promise<ServiceProcess> {
  const proc = await startWorkerProcess(env);
  fx.running.push(proc);
  return proc;
}

/** Sync requests that wait in the API (no worker runs): resolves once all are queued in Redis. */
async function waitingSyncRequests(port: number, count: number): Promise<{ answers: Promise<TimedAnswer[]> }> {
  const answers = Promise.all(
    Array.from({ length: count }, (_, j) => timedRequest(port, 'POST', '/v1/rerank', { model: fx.modelId, query: `waiting ${j}`, documents: ['one passage', 'another passage'] }, 120_000)),
  );
  await waitUntil(async () => (await queueCounts(fx.redis!.port, fx.modelId)).waiting === count, 10_000, `${count} sync requests queued`);
  // Wrapped: an async function returning the promise itself would wait for the answers.
  return { answers };
}

/** Submits JOBS async jobs and resolves once they are all active on the (one) running worker. */
async function activeJobsOnWorker(port: number): Promise<void> {
  for (let j = 0; j < JOBS; j++) {
    const accepted = await timedRequest(port, 'POST', '/v1/jobs', { model: fx.modelId, ...gradedRequest(j, DOCUMENTS) });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  }
  await waitUntil(async () => (await queueCounts(fx.redis!.port, fx.modelId)).active === JOBS, 10_000, `${JOBS} jobs active`);
}

function report(what: string, exit: TimedExit, bound: number, proc: ServiceProcess): void {
  console.log(`SIGTERM ${what}: exited in ${seconds(exit.ms)} (bound ${seconds(bound)}; code ${exit.code}, signal ${exit.signal}${exit.forced ? ', KILLED at the cap' : ''})`);
  expect(exit.forced, `still running ${seconds(exit.ms)} after SIGTERM\n${proc.output().slice(-3000)}`).toBe(false);
  expect(exit.ms).toBeLessThanOrEqual(bound);
}

describe('when rerank-pool api gets SIGTERM', () => {
  it(`should exit within ${API_BOUND_MS / 1000} s with Redis down and sync requests waiting`, async () => {
    const env = await baseEnv();
    const { proc, port } = await api(env);
    const { answers } = await waitingSyncRequests(port, 3);
    await fx.redis!.stop();
    await sleep(500);
    const exit = await timeExit(proc, API_BOUND_MS + CAP_SLACK_MS);
    const clients = (await answers).map((a) => a.status || a.error);
    console.log(`  the waiting clients got: ${clients.join(', ')}`);
    report('api, Redis down, 3 sync requests waiting', exit, API_BOUND_MS, proc);
  });

  it(`should exit within ${API_BOUND_MS / 1000} s with Redis up and sync requests waiting`, async () => {
    const env = await baseEnv();
    const { proc, port } = await api(env);
    const { answers } = await waitingSyncRequests(port, 3);
    const exit = await timeExit(proc, API_BOUND_MS + CAP_SLACK_MS);
    const clients = (await answers).map((a) => a.status || a.error);
    console.log(`  the waiting clients got: ${clients.join(', ')}`);
    report('api, Redis up, 3 sync requests waiting', exit, API_BOUND_MS, proc);
  });
});

describe(`when rerank-pool worker gets SIGTERM (WORKER_DRAIN_MS=${WORKER_DRAIN_MS})`, () => {
  it(`should exit within ${WORKER_BOUND_MS / 1000} s when idle with Redis down`, async () => {
    const env = await baseEnv();
    const proc = await worker(env);
    await fx.redis!.stop();
    await sleep(500);
    report('idle worker, Redis down', await timeExit(proc, WORKER_BOUND_MS + CAP_SLACK_MS), WORKER_BOUND_MS, proc);
  });

  it(`should exit within ${WORKER_BOUND_MS / 1000} s when it had active jobs as Redis went down`, async () => {
    const env = await baseEnv();
    const proc = await worker(env);
    const { port } = await api(env);
    await activeJobsOnWorker(port);
    await fx.redis!.stop();
    await sleep(500);
    report(`worker with ${JOBS} active jobs, Redis down`, await timeExit(proc, WORKER_BOUND_MS + CAP_SLACK_MS), WORKER_BOUND_MS, proc);
  });

  it(`should exit within ${WORKER_BOUND_MS / 1000} s with jobs active past the drain and Redis up, handing them back`, async () => {
    const env = await baseEnv();
    const proc = await worker(env);
    const { port } = await api(env);
    await activeJobsOnWorker(port);
    const exit = await timeExit(proc, WORKER_BOUND_MS + CAP_SLACK_MS);
    const counts = await queueCounts(fx.redis!.port, fx.modelId);
    console.log(`  after the exit: ${JSON.stringify(counts)}`);
    report(`worker with ${JOBS} active jobs, Redis up`, exit, WORKER_BOUND_MS, proc);
    // None lost: each job finished within the drain or waits in the queue again, no attempt failed.
    expect(counts).toMatchObject({ active: 0, failed: 0 });
    expect(counts.waiting + counts.completed).toBe(JOBS);
    expect(counts.waiting).toBeGreaterThan(0);
  });
});
