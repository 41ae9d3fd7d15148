#!/usr/bin/env node
// What REDIS_WAIT_REPLICAS costs an async job's acknowledgement (POST /v1/jobs -> 202).
//
//   npx tsc -b && node scripts/wait-latency.mjs [--jobs 1000] [--concurrency 1]
//
// Starts a redis-server master and one replica of it on free ports (private, killed at the end),
// and two API instances in this process on that master, one with REDIS_WAIT_REPLICAS=1 and one
// without, each under a prefix of its own. Sends the same async jobs to both in alternating
// rounds (so machine noise hits both alike), `concurrency` at a time, and prints the 202
// latency percentiles of each and their difference. Jobs only queue (no worker runs): what is
// measured is admission, the add and, with WAIT, the replica's acknowledgement. A diagnostic,
// not a test: it asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

const root = resolve(import.meta.dirname, '..');
const { buildApi } = await import(resolve(root, 'apps/api/dist/index.js'));
const { loadConfig } = await import(resolve(root, 'libs/config/dist/index.js'));

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '1' } } });
const JOBS = Number(values.jobs);
const CONCURRENCY = Number(values.concurrency);
const ROUND = 50;

const freePort = () =>
  new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
    server.on('error', fail);
  });

async function startRedis(dir, extra) {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0', ...extra], { stdio: 'ignore' });
  const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  for (let i = 0; ; i++) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      if (i > 100) throw new Error(`redis-server on ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { port, child, probe };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const summary = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50_ms: +percentile(sorted, 50).toFixed(3), p95_ms: +percentile(sorted, 95).toFixed(3), p99_ms: +percentile(sorted, 99).toFixed(3) };
};

const dir = await mkdtemp(join(tmpdir(), 'rp-wait-latency-'));
const started = [];
const apps = [];
try {
  const master = await startRedis(dir, []);
  started.push(master);
  const replicaDir = await mkdtemp(join(tmpdir(), 'rp-wait-latency-replica-'));
  const replica = await startRedis(replicaDir, ['--replicaof', '127.0.0.1', String(master.port)]);
  started.push({ ...replica, dir: replicaDir });
  for (let i = 0; !(await replica.probe.info('replication')).includes('master_link_status:up'); i++) {
    if (i > 200) throw new Error('the replica did not sync');
    await new Promise((r) => setTimeout(r, 50));
  }
  const base = { REDIS_URL: `redis://127.0.0.1:${master.port}`, RERANK_MODELS: 'org/wait-latency', LOG_LEVEL: 'silent', TENANT_MAX_QUEUED_JOBS: '0', MAX_QUEUE_DEPTH: '10000000' };
  const variants = { without_wait: {}, with_wait: { REDIS_WAIT_REPLICAS: '1' } };
  const samples = { without_wait: [], with_wait: [] };
  const targets = {};
  for (const [name, env] of Object.entries(variants)) {
    const app = await buildApi({ config: loadConfig({ ...base, ...env, QUEUE_PREFIX: `rp-wait-${name}` }), logger: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    apps.push(app);
    targets[name] = `http://127.0.0.1:${app.server.address().port}/v1/jobs`;
  }
  const body = JSON.stringify({ query: 'what does WAIT cost', documents: Array.from({ length: 20 }, (_, i) => `document ${i} of the job`) });
  const send = async (name) => {
    const began = performance.now();
    const response = await fetch(targets[name], { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await response.arrayBuffer();
    if (response.status !== 202) throw new Error(`${name}: ${response.status}`);
    samples[name].push(performance.now() - began);
  };
  // Warm-up: connections, scripts, JIT.
  for (const name of Object.keys(variants)) for (let i = 0; i < 50; i++) await send(name);
  for (const name of Object.keys(variants)) samples[name].length = 0;
  for (let done = 0; done < JOBS; done += ROUND) {
    for (const name of Object.keys(variants)) {
      for (let i = 0; i < ROUND; i += CONCURRENCY) await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ROUND - i) }, () => send(name)));
    }
  }
  const off = summary(samples.without_wait);
  const on = summary(samples.with_wait);
  console.log(
    JSON.stringify(
      {
        jobs_each: samples.with_wait.length,
        concurrency: CONCURRENCY,
        without_wait: off,
        with_wait: on,
        wait_cost_p50_ms: +(on.p50_ms - off.p50_ms).toFixed(3),
        wait_cost_p95_ms: +(on.p95_ms - off.p95_ms).toFixed(3),
      },
      null,
      2,
    ),
  );
} finally {
  for (const app of apps) await app.close();
  for (const { child, probe } of started) {
    probe.disconnect();
    child.kill('SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
  for (const { dir: own } of started) if (own) await rm(own, { recursive: true, force: true });
}
