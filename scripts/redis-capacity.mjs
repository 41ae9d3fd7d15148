#!/usr/bin/env node
// How many jobs/s one Redis node carries for this project's job shape, measured on Redis's own clock.
//
//   npm run redis-capacity
//   npx tsc -b && node scripts/redis-capacity.mjs [--seconds 30] [--fill 8] [--retention 20] [--lanes 64]
//     [--docs 20,100] [--worker-concurrency 128] [--poll-ms 25] [--idle-seconds 5] [--no-async] [--no-queue-only]
//
// Starts a redis-server of its own on a free port of 7300-7399, with production's persistence
// (appendonly yes, appendfsync everysec), runs the real API (buildApi) and a real RerankWorker
// in this process on the synthetic `tiny` model, and drives a bounded closed loop of `--lanes`
// requests in flight: sync 1 x D documents for each D of `--docs`, then async jobs (POST
// /v1/jobs, then GET until finished, every `--poll-ms`), then BullMQ alone (add, a worker whose
// processor returns at once) for the queue scripts' own ceiling. Each mode runs on a fresh key
// prefix, the previous mode's keys deleted.
//
// Each mode runs fill -> settle -> measure. JOB_RETENTION_SECONDS is short (`--retention`) so
// the measured window is steady state: every finished job also removes one that aged out, as in
// production one retention period after start. Fill, before any removal, gives the bytes a
// retained job holds.
//
// Measured between INFO snapshots around the measure window: Redis CPU (used_cpu_{user,sys} for
// the process, *_main_thread for the one thread that executes commands), commandstats (calls,
// the calls scripts make inside Redis included; usec), the commands the clients send, and the
// idle rate with the service connected but no load (heartbeats, stalled checks, depth reads),
// which is per second, not per job. 1 / main-thread CPU per job is the ceiling. CPU per job holds
// up under CPU contention far better than wall time (a descheduled Redis spends no CPU); the wall
// jobs/s printed is this machine's client, API and worker sharing the cores with Redis, not a
// Redis limit. Prints a JSON summary on stdout, progress on stderr. Reads the built dist/ output.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    fill: { type: 'string', default: '8' },
    retention: { type: 'string', default: '20' },
    lanes: { type: 'string', default: '64' },
    docs: { type: 'string', default: '20,100' },
    'worker-concurrency': { type: 'string', default: '128' },
    'poll-ms': { type: 'string', default: '25' },
    'idle-seconds': { type: 'string', default: '5' },
    'no-async': { type: 'boolean', default: false },
    'no-queue-only': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const fillSeconds = Number(values.fill);
const retentionSeconds = Number(values.retention);
const lanes = Number(values.lanes);
const docCounts = values.docs.split(',').map(Number);
const pollMs = Number(values['poll-ms']);
const log = (line) => process.stderr.write(`redis-capacity: ${line}\n`);

// Commands the clients send (API, worker, BullMQ: all ioredis), one per command whether pipelined or
// not; Redis's commandstats also count the calls scripts make inside Redis.
let clientCommands = 0;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (...args) {
  clientCommands++;
  return sendCommand.apply(this, args);
};

// ---- a redis-server of our own ---------------------------------------------------------------
function portIsFree(port) {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}

async function startRedis(dir) {
  for (let port = 7300; port <= 7399; port++) {
    if (!(await portIsFree(port))) continue;
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec',
        '--aof-use-rdb-preamble', 'yes', '--save', '', '--maxmemory-policy', 'noeviction', '--daemonize', 'no'],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    for (let attempt = 0; attempt < 50; attempt++) {
      await sleep(100);
      if (child.exitCode !== null) break;
      try {
        await redis.connect();
        await redis.ping();
        return { port, child, exited, redis };
      } catch {
        redis.disconnect();
      }
    }
    child.kill('SIGKILL');
    await exited;
    log(`redis-server on ${port} did not start; trying the next port`);
  }
  throw new Error('no free port in 7300-7399 for redis-server');
}

async function stopRedis({ child, exited, redis }) {
  redis.disconnect();
  if (child.exitCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

// ---- Redis's own counters ----------------------------------------------------------------------
function parseInfo(text) {
  const fields = {};
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields[line.slice(0, at)] = line.slice(at + 1);
  }
  return fields;
}

async function snapshot(redis) {
  const info = parseInfo(await redis.info('all'));
  const commands = {};
  for (const [key, value] of Object.entries(info)) {
    if (!key.startsWith('cmdstat_')) continue;
    const stat = Object.fromEntries(value.split(',').map((pair) => pair.split('=')));
    commands[key.slice('cmdstat_'.length)] = { calls: Number(stat.calls), usec: Number(stat.usec) };
  }
  return {
    at: performance.now(),
    cpuProcess: Number(info.used_cpu_user) + Number(info.used_cpu_sys),
    cpuMainThread: Number(info.used_cpu_user_main_thread) + Number(info.used_cpu_sys_main_thread),
    netBytes: Number(info.total_net_input_bytes) + Number(info.total_net_output_bytes),
    clientCommands,
    usedMemory: Number(info.used_memory),
    commands,
  };
}

/** What changed between two snapshots: totals, per-second, and per-job (after subtracting the idle rate). */
function delta(before, after, jobs, idle) {
  const wall = (after.at - before.at) / 1000;
  const minusIdle = (value, rate) => value - (idle ? rate * wall : 0);
  const cpuMain = after.cpuMainThread - before.cpuMainThread;
  const cpuProcess = after.cpuProcess - before.cpuProcess;
  const perCommand = {};
  let calls = 0;
  for (const [name, stat] of Object.entries(after.commands)) {
    const was = before.commands[name] ?? { calls: 0, usec: 0 };
    const c = stat.calls - was.calls;
    const u = stat.usec - was.usec;
    if (c === 0) continue;
    perCommand[name] = { calls: c, usec: u };
    calls += c;
  }
  return {
    wall,
    jobs,
    cpuMain,
    cpuProcess,
    calls,
    clientCommands: after.clientCommands - before.clientCommands,
    netBytes: after.netBytes - before.netBytes,
    perCommand,
    net: idle && {
      cpuMain: minusIdle(cpuMain, idle.cpuMainPerSecond),
      calls: minusIdle(calls, idle.callsPerSecond),
    },
  };
}

function summarize(d) {
  const per = (value) => (d.jobs > 0 ? value / d.jobs : NaN);
  const round = (value, digits) => Number(value.toPrecision(digits));
  const cpuMainPerJob = per(d.cpuMain);
  const top = Object.entries(d.perCommand)
    .sort((a, b) => b[1].usec - a[1].usec)
    .slice(0, 12)
    .map(([name, stat]) => ({ command: name, calls_per_job: round(per(stat.calls), 3), usec_per_job: round(per(stat.usec), 3) }));
  return {
    jobs: d.jobs,
    seconds: round(d.wall, 4),
    wall_jobs_per_second: round(d.jobs / d.wall, 4),
    redis_main_thread_cpu_share: round(d.cpuMain / d.wall, 3),
    redis_cpu_ms_per_job: { main_thread: round(cpuMainPerJob * 1000, 4), process: round(per(d.cpuProcess) * 1000, 4) },
    redis_cpu_ms_per_job_less_idle: d.net ? round(per(d.net.cpuMain) * 1000, 4) : undefined,
    commands_per_job: {
      executed_by_redis_scripts_inner_calls_included: round(per(d.calls), 4),
      executed_less_idle: d.net ? round(per(d.net.calls), 4) : undefined,
      sent_by_clients: round(per(d.clientCommands), 4),
    },
    network_bytes_per_job: Math.round(per(d.netBytes)),
    ceiling_jobs_per_second_one_core: Math.round(1 / cpuMainPerJob),
    ceiling_jobs_per_second_one_core_less_idle: d.net ? Math.round(d.jobs / d.net.cpuMain) : undefined,
    // A script's usec include the calls it makes, which are also listed under their own names.
    top_commands_by_usec: top,
  };
}

// ---- the closed loop ---------------------------------------------------------------------------
function send(agent, method, url, body) {
  return new Promise((resolveSend, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers = text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
    const req = httpRequest(url, { method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolveSend({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Runs `oneJob(i)` on `lanes` lanes until `untilMs` (performance.now); resolves with the jobs finished. */
async function closedLoop(oneJob, untilMs) {
  let done = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < untilMs) {
        await oneJob(next++);
        done++;
      }
    }),
  );
  return done;
}

/**
 * Fill (memory per retained job), settle (until the first jobs age out), measure: each stage
 * starts as soon as the previous one's lanes have all finished their last job.
 */
async function runMode(name, redis, oneJob, idle) {
  log(`${name}: fill ${fillSeconds} s, settle to ${retentionSeconds + 5} s, measure ${seconds} s`);
  const start = performance.now();
  const s0 = await snapshot(redis);
  const filled = await closedLoop(oneJob, start + fillSeconds * 1000);
  const s1 = await snapshot(redis);
  await closedLoop(oneJob, start + (retentionSeconds + 5) * 1000);
  const s2 = await snapshot(redis);
  const jobs = await closedLoop(oneJob, performance.now() + seconds * 1000);
  const s3 = await snapshot(redis);
  const summary = summarize(delta(s2, s3, jobs, idle));
  summary.retained_bytes_per_job = Math.round((s1.usedMemory - s0.usedMemory) / filled);
  log(`${name}: ${jobs} jobs, ${summary.wall_jobs_per_second} jobs/s wall, ${summary.redis_cpu_ms_per_job.main_thread} ms Redis main-thread CPU/job -> ceiling ${summary.ceiling_jobs_per_second_one_core} jobs/s`);
  return summary;
}

// ---- main --------------------------------------------------------------------------------------
const { buildApi } = await import('@rerank-pool/api');
const { RerankWorker } = await import('@rerank-pool/worker');
const { loadConfig } = await import('@rerank-pool/config');
const { generateWorkload } = await import('@rerank-pool/bench');
const { synthesizeModel } = await import('@rerank-pool/model-synth');
const { deleteKeysWithPrefix } = await import('@rerank-pool/queue');

const work = mkdtempSync(join(tmpdir(), 'rerank-pool-redis-capacity-'));
const server = await startRedis(join(work));
const { redis } = server;
// Interrupted: still stop our redis-server (and only it) and remove its files.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
}
log(`redis-server pid ${server.child.pid} on port ${server.port} (appendonly yes, appendfsync everysec), data in ${work}`);
const cleanups = [];
/** `close` at most once: here when a stage is over, or in the final clean-up when it failed first. */
const closer = (close) => {
  let closing;
  const once = () => (closing ??= Promise.resolve().then(close));
  cleanups.push(once);
  return once;
};
try {
  const model = await synthesizeModel({ preset: 'tiny', outDir: join(work, 'tiny') });
  // No pair-score cache: it would serve repeated requests without a job.
  const { SCORE_CACHE_URL: _cache, ...environment } = process.env;
  const quiet = { info() {}, warn() {}, error() {} };
  const agent = new Agent({ keepAlive: true, maxSockets: lanes });
  closer(() => agent.destroy());
  /**
   * API and worker on a prefix of their own. Each mode gets a fresh one, and the previous mode's
   * keys are deleted first: its retained jobs would otherwise age out during the next fill and
   * hide the memory the new ones take.
   */
  async function startService() {
    const prefix = `rerank-pool-capacity-${randomBytes(3).toString('hex')}`;
    const config = loadConfig({
      ...environment,
      REDIS_URL: `redis://127.0.0.1:${server.port}`,
      QUEUE_PREFIX: prefix,
      RERANK_MODELS: model.dir,
      WORKER_CONCURRENCY: values['worker-concurrency'],
      JOB_RETENTION_SECONDS: String(retentionSeconds),
      // The loop is the only client: admission limits would only cut it short.
      MAX_QUEUE_DEPTH: '1000000',
      TENANT_MAX_QUEUED_JOBS: '0',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
    });
    const worker = await RerankWorker.start({ config, logger: quiet });
    const closeWorker = closer(() => worker.close());
    const app = await buildApi({ config, logger: false });
    const closeApi = closer(() => app.close());
    await app.listen({ host: '127.0.0.1', port: 0 });
    return {
      base: `http://127.0.0.1:${app.server.address().port}`,
      modelId: worker.modelIds[0],
      async close() {
        await closeApi();
        await closeWorker();
        await deleteKeysWithPrefix(redis, prefix);
      },
    };
  }

  const workloads = new Map(docCounts.map((docs) => [docs, generateWorkload({ queries: 512, docs, seed: docs })]));
  const syncJob = ({ base, modelId }, docs) => async (i) => {
    const request = workloads.get(docs)[i % 512];
    const reply = await send(agent, 'POST', `${base}/v2/rerank`, { model: modelId, query: request.query, documents: request.documents });
    if (reply.status !== 200) throw new Error(`POST /v2/rerank answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  };
  let polls = 0;
  const asyncJob = ({ base, modelId }, docs) => async (i) => {
    const request = workloads.get(docs)[i % 512];
    const created = await send(agent, 'POST', `${base}/v1/jobs`, { model: modelId, query: request.query, documents: request.documents });
    if (created.status !== 202) throw new Error(`POST /v1/jobs answered ${created.status}: ${JSON.stringify(created.body)}`);
    for (let attempt = 0; attempt < 2000; attempt++) {
      await sleep(pollMs);
      polls++;
      const status = await send(agent, 'GET', `${base}${created.body.status_url}`);
      if (['completed', 'failed', 'cancelled'].includes(status.body.status)) {
        if (status.body.status !== 'completed') throw new Error(`job ${created.body.id} ${status.body.status}`);
        return;
      }
    }
    throw new Error(`job ${created.body.id} not finished after 2000 polls`);
  };

  // Warm-up (JIT, pool threads, connections), then the idle rate with everything connected.
  let service = await startService();
  await closedLoop(syncJob(service, docCounts[0]), performance.now() + 5000);
  await sleep(1000);
  const idleSeconds = Number(values['idle-seconds']);
  const i0 = await snapshot(redis);
  await sleep(idleSeconds * 1000);
  const idleDelta = delta(i0, await snapshot(redis), 0);
  const idle = { cpuMainPerSecond: idleDelta.cpuMain / idleDelta.wall, callsPerSecond: idleDelta.calls / idleDelta.wall };
  log(`idle: ${(idle.cpuMainPerSecond * 1000).toFixed(2)} ms Redis CPU/s, ${idle.callsPerSecond.toFixed(1)} commands/s`);

  const modes = {};
  const nextService = async () => {
    await service.close();
    service = await startService();
  };
  for (const docs of docCounts) {
    await nextService();
    modes[`sync_1x${docs}`] = await runMode(`sync 1x${docs}`, redis, syncJob(service, docs), idle);
  }
  if (!values['no-async']) {
    const docs = docCounts[0];
    await nextService();
    const before = polls;
    const summary = await runMode(`async 1x${docs}`, redis, asyncJob(service, docs), idle);
    summary.note = `each job polled with GET /v1/jobs/:id every ${pollMs} ms until finished; the polls are in its cost`;
    summary.polls_per_job = Number(((polls - before) / summary.jobs).toFixed(2));
    modes[`async_1x${docs}`] = summary;
  }
  await service.close();

  if (!values['no-queue-only']) {
    // BullMQ alone: the add, moveToActive and moveToFinished scripts, with the service's job options
    // (attempts, backoff, removal by age) and a small payload; the worker's processor returns at once.
    const connection = { host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null };
    const prefix = `rerank-pool-capacity-bare-${randomBytes(3).toString('hex')}`;
    const queue = new Queue('bare', { connection, prefix });
    const waiting = new Map();
    const bare = new Worker('bare', async () => ({ ok: true }), { connection, prefix, concurrency: Number(values['worker-concurrency']) });
    bare.on('completed', (job) => waiting.get(job.id)?.());
    const closeBare = closer(async () => {
      await bare.close();
      await queue.close();
    });
    const options = { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: retentionSeconds }, removeOnFail: { age: retentionSeconds } };
    // Ids unique across the stages: closedLoop numbers each stage from 0, and adding an id that is
    // still retained is a no-op that would never complete.
    let added = 0;
    const bareJob = async () => {
      const i = added++;
      const id = `j${i}`;
      const finished = new Promise((resolveJob) => waiting.set(id, resolveJob));
      await queue.add('job', { i }, { ...options, jobId: id });
      await finished;
      waiting.delete(id);
    };
    modes.bullmq_only = await runMode('BullMQ only', redis, bareJob, undefined);
    await closeBare();
    await deleteKeysWithPrefix(redis, prefix);
    modes.bullmq_only.note = 'bare BullMQ Queue.add + Worker (no-op processor), same job options, payload {i}; no API, no admission script, no events read';
  }

  const summary = {
    // The built code measured is the working tree's at the last build: say which.
    code: execFileSync('git', ['describe', '--always', '--dirty'], { cwd: import.meta.dirname, encoding: 'utf8' }).trim(),
    redis_server: (await redis.info('server')).match(/redis_version:(\S+)/)?.[1],
    machine: { cores: cpus().length, load_average: loadavg().map((l) => Number(l.toFixed(2))) },
    settings: { lanes, worker_concurrency: Number(values['worker-concurrency']), model: 'synthetic tiny', retention_seconds: retentionSeconds, measure_seconds: seconds, appendfsync: 'everysec' },
    idle: { redis_cpu_ms_per_second: Number((idle.cpuMainPerSecond * 1000).toFixed(3)), commands_per_second: Number(idle.callsPerSecond.toFixed(1)) },
    reported: 'redis_cpu_ms_per_job.main_thread is the robust number; wall_jobs_per_second is this machine with client, API, worker and Redis on 2 shared cores',
    modes,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} finally {
  for (const close of cleanups.reverse()) await close();
  await stopRedis(server);
  rmSync(work, { recursive: true, force: true });
}
