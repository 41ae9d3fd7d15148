import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '@rerank-pool/api';
import { loadConfig } from '@rerank-pool/config';
import { synthesizeModel } from '@rerank-pool/model-synth';
import { RerankWorker } from '@rerank-pool/worker';
import { startSentinelGroup } from './support/redis-topologies.js';
import type { SentinelGroupFixture } from './support/redis-topologies.js';

/** Submissions go on this long before the master is killed. */
const BEFORE_KILL_MS = 1500;
/** ... and this long after the first job accepted after the failover. */
const AFTER_RECOVERY_MS = 2000;
/** The bound: new requests succeed within this of the kill, nothing restarted. */
const RECOVERY_BOUND_MS = 15_000;
/** A request during the switch is answered (503) within this, never held. */
const ANSWER_BOUND_MS = 3000;

interface Submission {
  sentAt: number;
  answeredAt: number;
  status: number;
  id?: string;
  message?: string;
}

interface Service {
  name: string;
  app: FastifyInstance;
  worker: RerankWorker;
  base: string;
  submissions: Submission[];
}

let group: SentinelGroupFixture;
let root: string;
let modelDir: string;

async function startService(name: string, env: Record<string, string>): Promise<Service> {
  const config = loadConfig({
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_SENTINELS: group.sentinelsEnv,
    REDIS_SENTINEL_NAME: group.masterName,
    QUEUE_PREFIX: `rp-sentinel-${name}-${randomBytes(3).toString('hex')}`,
    RERANK_MODELS: modelDir,
    LOG_LEVEL: 'silent',
    POOL_THREADS: '1',
    BATCH_STORE_URL: pathToFileURL(join(root, `store-${name}`)).href,
    ...env,
  });
  const worker = await RerankWorker.start({ config, logger: { info() {}, warn() {}, error() {} } });
  const app = await buildApi({ config, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { name, app, worker, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, submissions: [] };
}

/** One job after another, each answered (or failed) before the next, until `stop` says so. */
async function submitUntil(service: Service, stop: () => boolean): Promise<void> {
  for (let i = 0; !stop(); i++) {
    const sentAt = Date.now();
    try {
      const response = await fetch(`${service.base}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `q ${i}`, documents: ['alpha beta', 'gamma delta', 'epsilon'] }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await response.json()) as { id?: string; error?: { message: string } };
      service.submissions.push({ sentAt, answeredAt: Date.now(), status: response.status, id: response.status === 202 ? body.id : undefined, message: body.error?.message });
    } catch {
      service.submissions.push({ sentAt, answeredAt: Date.now(), status: 0 });
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The job's final status (`completed`, `failed`, ...) or `lost` when the API no longer knows it. */
async function outcome(service: Service, id: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    const response = await fetch(`${service.base}/v1/jobs/${id}`, { signal: AbortSignal.timeout(5000) }).catch((error: Error) => error);
    if (!(response instanceof Error) && response.status === 404) return 'lost';
    if (!(response instanceof Error) && response.status === 200) {
      const { status } = (await response.json()) as { status: string };
      if (status !== 'queued' && status !== 'active') return status;
      last = status;
    } else {
      last = response instanceof Error ? response.message : `HTTP ${response.status}`;
    }
    if (Date.now() > deadline) return `still ${last} after ${timeoutMs} ms`;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  group = await startSentinelGroup({ downAfterMs: 1000, failoverTimeoutMs: 3000 });
  root = await mkdtemp(join(tmpdir(), 'rp-sentinel-'));
  modelDir = join(root, 'tiny');
  await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 41 });
});

afterAll(async () => {
  await group?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('through Sentinel (REDIS_SENTINELS)', () => {
  // Two deployments on the same group, through the same failover: one acknowledges jobs as soon
  // as the master has them, the other once a replica has them too (REDIS_WAIT_REPLICAS).
  let services: Service[] = [];

  beforeAll(async () => {
    services = [await startService('async-replication', {}), await startService('wait', { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '500' })];
  });

  afterAll(async () => {
    for (const service of services) {
      await service.app.close();
      await service.worker.close();
    }
  });

  it('should acknowledge a job with REDIS_WAIT_REPLICAS only once a replica has it: 503 naming the job while the replica lags', async () => {
    const [plain, waiting] = services;
    const job = { query: 'lagging', documents: ['a b', 'c d'] };
    const post = (service: Service) => fetch(`${service.base}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(job) });
    const thaw = await group.freezeReplica();
    let refused: { status: number; body: { error: { code: string; message: string } } };
    try {
      expect((await post(plain)).status).toBe(202);
      const began = Date.now();
      const response = await post(waiting);
      refused = { status: response.status, body: (await response.json()) as typeof refused.body };
      console.log(`with the replica frozen: 503 after ${Date.now() - began} ms (REDIS_WAIT_TIMEOUT_MS 500)`);
      // A batch is acknowledged the same way.
      const batch = await fetch(`${waiting.base}/v1/batches`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: `${JSON.stringify(job)}\n` });
      expect(batch.status).toBe(503);
      expect(((await batch.json()) as typeof refused.body).error.message).toMatch(/^batch \S+ was written but 0 of the 1 replicas/);
    } finally {
      thaw();
    }
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/^job \S+ was written but 0 of the 1 replicas REDIS_WAIT_REPLICAS asks for confirmed it within 500 ms/) });
    // The job itself exists on the master and runs; with the replica back, jobs are acknowledged again.
    const jobId = /^job (\S+) /.exec(refused.body.error.message)![1];
    expect(await outcome(waiting, jobId, 30_000)).toBe('completed');
    const began = Date.now();
    expect((await post(waiting)).status).toBe(202);
    console.log(`one job acknowledged with WAIT 1 in ${Date.now() - began} ms`);
  });

  it('should follow a promotion after the master is killed (-9) under continuous submissions, answer during the switch, lose no job acknowledged with WAIT, and finish every job accepted after', async () => {
    let killedAt = Number.POSITIVE_INFINITY;
    const recoveredAt = new Map<string, number>();
    const recovered = (service: Service) => {
      const first = service.submissions.find((s) => s.status === 202 && s.sentAt > killedAt);
      if (first && !recoveredAt.has(service.name)) recoveredAt.set(service.name, first.answeredAt);
      return recoveredAt.get(service.name);
    };
    const stop = (service: Service) => () => {
      const at = recovered(service);
      return (at !== undefined && Date.now() > at + AFTER_RECOVERY_MS) || Date.now() > killedAt + RECOVERY_BOUND_MS + AFTER_RECOVERY_MS;
    };
    const submitting = services.map((service) => submitUntil(service, stop(service)));
    await new Promise((resolve) => setTimeout(resolve, BEFORE_KILL_MS));
    const oldMaster = await group.killMaster();
    killedAt = Date.now();
    const promotion = await group.waitForPromotion(oldMaster, RECOVERY_BOUND_MS);
    // Replaced, as an orchestrator would: WAIT needs a replica again before it acknowledges.
    const restarted = Date.now();
    await group.restartKilled();
    console.log(`the killed node was back as a replica ${Date.now() - restarted} ms after its restart`);
    await Promise.all(submitting);

    for (const service of services) {
      const accepted = service.submissions.filter((s) => s.status === 202);
      const before = accepted.filter((s) => s.sentAt < killedAt);
      const after = accepted.filter((s) => s.sentAt > killedAt);
      const during = service.submissions.filter((s) => s.sentAt > killedAt && s.answeredAt < recoveredAt.get(service.name)!);
      const outcomes = await Promise.all(accepted.map(async (s) => ({ s, outcome: await outcome(service, s.id!, 30_000) })));
      const lostBefore = outcomes.filter(({ s, outcome }) => s.sentAt < killedAt && outcome === 'lost').length;
      const slowest = Math.max(...during.map((s) => s.answeredAt - s.sentAt), 0);
      const statuses = new Map<number, number>();
      for (const sub of service.submissions.filter((x) => x.sentAt > killedAt)) statuses.set(sub.status, (statuses.get(sub.status) ?? 0) + 1);
      console.log(`${service.name} after the kill: ${JSON.stringify([...statuses])} ${JSON.stringify([...new Set(service.submissions.filter((x) => x.sentAt > killedAt && x.message).map((x) => x.message!.slice(0, 90)))])}`);
      console.log(
        `${service.name}: promotion ${promotion.ms} ms after the kill; first job accepted ${recoveredAt.get(service.name)! - killedAt} ms after; ` +
          `${before.length} accepted before the kill, ${lostBefore} of them lost; ${during.length} answered during the switch ` +
          `(${[...new Set(during.map((s) => s.status))].join(', ')}; slowest ${slowest} ms); ${after.length} accepted after`,
      );
      expect(before.length).toBeGreaterThan(10);
      expect(recoveredAt.get(service.name)! - killedAt).toBeLessThan(RECOVERY_BOUND_MS);
      expect(after.length).toBeGreaterThan(0);
      // Every job accepted after the failover completes; during the switch, answers, not hangs.
      expect(outcomes.filter(({ s }) => s.sentAt > killedAt).map(({ outcome }) => outcome)).toEqual(after.map(() => 'completed'));
      expect(during.every((s) => s.status === 503)).toBe(true);
      expect(slowest).toBeLessThan(ANSWER_BOUND_MS);
      if (service.name === 'wait') expect(lostBefore).toBe(0);
    }
  }, 120_000);
});
