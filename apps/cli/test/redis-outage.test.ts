import { describe, expect, it } from 'vitest';
import { startPrivateRedis } from '../../../libs/batches/test/support/private-redis.js';
import { seconds, sleep, timedRequest } from './support/fault-timing.js';
import type { TimedAnswer } from './support/fault-timing.js';
import { freePort, startApiProcess, startWorkerProcess } from './support/service-processes.js';
import { useServiceFixture } from './support/service-fixture.js';

/**
 * Invariant 7 (issue 9): a Redis outage gives fast 503s and recovers by itself. Real `rerank-pool
 * api` and `rerank-pool worker` processes on a private redis-server, which is killed and later
 * started again on the same port; neither service process is restarted.
 */
/** While Redis is down, each request that needs it is answered 503 this fast. */
const FAST_503_BOUND_MS = 3000;
/** After Redis is back, a synchronous rerank succeeds again this soon. */
const RECOVERY_BOUND_MS = 5000;
/** After Redis is back, /readyz is ready again this soon: the worker's heartbeat (every 5 s) must be written again. */
const READY_AGAIN_BOUND_MS = 10_000;
/** How long a request during the outage is waited for at most: past the bound it has failed anyway. */
const DOWN_WAIT_MS = FAST_503_BOUND_MS + 5000;

const fx = useServiceFixture({ label: 'redis-outage', preset: 'tiny', seed: 29 });

const rerankBody = (n: number) => ({ model: fx.modelId, query: `outage query ${n}`, documents: ['a passage about ranking', 'a passage about queues', 'bananas are yellow'] });

/** 503, a Retry-After in whole seconds, and the documented `{error: {code: "unavailable", message}}`. */
function expectUnavailable(answer: TimedAnswer, what: string): void {
  const detail = `${what}: ${answer.status} ${JSON.stringify(answer.body ?? answer.error)?.slice(0, 300)}`;
  expect(answer.status, detail).toBe(503);
  expect(answer.headers.get('retry-after'), detail).toMatch(/^[1-9]\d*$/);
  expect(answer.body, detail).toMatchObject({ error: { code: 'unavailable', message: expect.any(String) } });
  expect(answer.body.error.message.length, detail).toBeGreaterThan(0);
  expect(answer.ms, detail).toBeLessThanOrEqual(FAST_503_BOUND_MS);
}

function expectReranked(answer: TimedAnswer): void {
  expect(answer.status, JSON.stringify(answer.body ?? answer.error)?.slice(0, 300)).toBe(200);
  expect(answer.body.results).toHaveLength(3);
  expect(answer.body.meta.model).toBe(fx.modelId);
}

describe('when Redis goes away under running API and worker processes and comes back', () => {
  it('should answer 503 + Retry-After fast while it is down, and serve again within seconds of its return without a restart', async () => {
    fx.redis = await startPrivateRedis();
    const { port: redisPort } = fx.redis;
    const env = { REDIS_URL: fx.redis.url, RERANK_MODELS: fx.modelDir, POOL_THREADS: '1', REQUEST_TIMEOUT_MS: '15000', LOG_LEVEL: 'warn' };
    const worker = await startWorkerProcess(env);
    const apiPort = await freePort();
    const api = await startApiProcess(env, apiPort);
    fx.running.push(worker, api);
    const pids = [api.child.pid, worker.child.pid];

    expectReranked(await timedRequest(apiPort, 'POST', '/v1/rerank', rerankBody(0)));
    expect((await timedRequest(apiPort, 'GET', '/readyz')).status).toBe(200);

    await fx.redis.stop();
    const down = performance.now();

    // At once, while the clients' connections have just broken…
    const [syncAtOnce, jobAtOnce] = await Promise.all([
      timedRequest(apiPort, 'POST', '/v1/rerank', rerankBody(1), DOWN_WAIT_MS),
      timedRequest(apiPort, 'POST', '/v1/jobs', rerankBody(2), DOWN_WAIT_MS),
    ]);
    const readyDown = await timedRequest(apiPort, 'GET', '/readyz', undefined, DOWN_WAIT_MS);
    // …and a few seconds into the outage, while they are reconnecting.
    await sleep(Math.max(0, 3000 - (performance.now() - down)));
    const [syncLater, jobLater] = await Promise.all([
      timedRequest(apiPort, 'POST', '/v1/rerank', rerankBody(3), DOWN_WAIT_MS),
      timedRequest(apiPort, 'POST', '/v1/jobs', rerankBody(4), DOWN_WAIT_MS),
    ]);
    const readyLater = await timedRequest(apiPort, 'GET', '/readyz', undefined, DOWN_WAIT_MS);
    console.log(
      `Redis down: POST /v1/rerank ${syncAtOnce.status} in ${seconds(syncAtOnce.ms)}, POST /v1/jobs ${jobAtOnce.status} in ${seconds(jobAtOnce.ms)}, ` +
        `GET /readyz ${readyDown.status} in ${seconds(readyDown.ms)} (at once); ${syncLater.status} in ${seconds(syncLater.ms)}, ${jobLater.status} in ${seconds(jobLater.ms)}, ` +
        `${readyLater.status} in ${seconds(readyLater.ms)} (3 s into the outage); retry-after ${syncAtOnce.headers.get('retry-after')}`,
    );
    expectUnavailable(syncAtOnce, 'POST /v1/rerank at once');
    expectUnavailable(jobAtOnce, 'POST /v1/jobs at once');
    expectUnavailable(syncLater, 'POST /v1/rerank 3 s into the outage');
    expectUnavailable(jobLater, 'POST /v1/jobs 3 s into the outage');
    for (const ready of [readyDown, readyLater]) {
      expect(ready.status, JSON.stringify(ready.body)).toBe(503);
      expect(ready.body.status).toBe('not_ready');
      expect(ready.ms).toBeLessThanOrEqual(FAST_503_BOUND_MS);
    }

    fx.redis = await startPrivateRedis({ port: redisPort });
    const back = performance.now();
    // Asked again until it works: an attempt may meet a client still reconnecting (a fast 503)
    // or wait in the queue for the worker to be back.
    const attempts: string[] = [];
    let served: TimedAnswer | undefined;
    while (performance.now() - back < RECOVERY_BOUND_MS + 10_000) {
      const answer = await timedRequest(apiPort, 'POST', '/v1/rerank', rerankBody(5), 20_000);
      attempts.push(`${answer.status || answer.error} after ${seconds(answer.ms)}`);
      if (answer.status === 200) {
        served = answer;
        break;
      }
      await sleep(100);
    }
    const servedMs = performance.now() - back;
    let readyMs = 0;
    for (;;) {
      const ready = await timedRequest(apiPort, 'GET', '/readyz', undefined, 5000);
      readyMs = performance.now() - back;
      if (ready.status === 200 || readyMs > READY_AGAIN_BOUND_MS + 10_000) break;
      await sleep(100);
    }
    console.log(`Redis back: a sync rerank served ${seconds(servedMs)} after the restart (attempts: ${attempts.join(', ')}); /readyz ready ${seconds(readyMs)} after`);
    expect(served, attempts.join(', ')).toBeDefined();
    expectReranked(served!);
    expect(servedMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    expect(readyMs).toBeLessThanOrEqual(READY_AGAIN_BOUND_MS);

    // An async job goes through too.
    const accepted = await timedRequest(apiPort, 'POST', '/v1/jobs', rerankBody(6));
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    let job: TimedAnswer;
    const polled = performance.now();
    do {
      await sleep(100);
      job = await timedRequest(apiPort, 'GET', `/v1/jobs/${accepted.body.id}`);
    } while (job.status === 200 && job.body.status !== 'completed' && performance.now() - polled < 10_000);
    expect(job.body.status, JSON.stringify(job.body)).toBe('completed');

    // The very same processes did all of it.
    expect([api.child.pid, worker.child.pid]).toEqual(pids);
    for (const proc of [api, worker]) expect(proc.child.exitCode === null && proc.child.signalCode === null, proc.output()).toBe(true);
  }, 90_000);
});
