#!/usr/bin/env node
// Where the HTTP + queue overhead of one synchronous request on an idle pool goes, hop by hop.
//
//   npx tsc -b && node scripts/overhead-breakdown.mjs [--samples 200] [--docs 20] [--new-connections] [--timeline]
//
// Runs the API and a worker in this process, as `rerank-pool bench` does (same synthetic
// tinybert-l2 model, same settings), sends 1 x `docs` requests one at a time on one kept-alive
// connection (as bench's latency phase; `--new-connections` opens one per request), and
// timestamps each hop on one clock (performance.now): the client, the HTTP server, the service,
// every Redis command of every connection (sent and answered) and the worker's processor. Prints
// the median of each hop over the samples, wall time and main-thread busy time; `--timeline`
// also prints every mark of the median request.
//
// It instruments by wrapping prototypes of the built code from outside (nothing in the service
// knows it is measured), so it reads the dist/ output: build first. A diagnostic, not a test: it
// asserts nothing and its numbers are as noisy as the machine (it prints the load average).
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

const root = resolve(import.meta.dirname, '..');
const dist = (path) => import(resolve(root, path));

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '200' },
    docs: { type: 'string', default: '20' },
    'new-connections': { type: 'boolean', default: false },
    timeline: { type: 'boolean', default: false },
    'redis-url': { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const samples = Number(values.samples);
const docs = Number(values.docs);

// ---- marks -------------------------------------------------------------------------------
let marks = [];
// Main-thread busy time (ms) so far: the event loop's active time. A hop's busy share is this one
// thread running (JS, GC, or preempted by other processes while running); the rest of its wall
// time is the loop waiting (on Redis, sockets, the pool's threads).
const busy = () => performance.eventLoopUtilization().active;
const mark = (what, extra) => marks.push({ t: performance.now(), active: busy(), what, ...extra });

// Every Redis command: which connection, which command (scripts by their BullMQ or own name), when
// sent and when answered. Pipelined commands share their send time.
const scriptNames = new Map();
const defineCommand = Redis.prototype.defineCommand;
Redis.prototype.defineCommand = function (name, definition) {
  scriptNames.set(createHash('sha1').update(definition.lua).digest('hex'), name.replace(/:[\d.]+$/, ''));
  return defineCommand.call(this, name, definition);
};
let connections = 0;
const connectionIds = new WeakMap();
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (command, ...rest) {
  if (!connectionIds.has(this)) connectionIds.set(this, ++connections);
  const name = command.name === 'evalsha' ? (scriptNames.get(String(command.args[0])) ?? 'evalsha') : command.name;
  const record = { t: performance.now(), active: busy(), what: `redis#${connectionIds.get(this)} ${name}`, redis: true };
  marks.push(record);
  const answered = () => {
    record.replied = performance.now();
    record.repliedActive = busy();
  };
  command.promise?.then(answered, answered);
  return sendCommand.call(this, command, ...rest);
};

/** Marks `label:start` and `label:end` around a method of a built class. */
function around(proto, method, label) {
  const original = proto[method];
  proto[method] = function (...args) {
    mark(`${label}:start`);
    const result = original.apply(this, args);
    if (result && typeof result.then === 'function') {
      result.then(
        () => mark(`${label}:end`),
        () => mark(`${label}:end`),
      );
    } else mark(`${label}:end`);
    return result;
  };
}

const { RerankService } = await dist('apps/api/dist/rerank-service.js');
const { RerankQueue } = await dist('libs/queue/dist/rerank-queue.js');
const { ResultWaiter } = await dist('libs/queue/dist/result-waiter.js');
const { JobScorer } = await dist('apps/worker/dist/job-scorer.js');
around(RerankService.prototype, 'rerank', 'service.rerank');
around(RerankQueue.prototype, 'admissionDepth', 'queue.admissionDepth');
around(RerankQueue.prototype, 'enqueue', 'queue.enqueue');
around(ResultWaiter.prototype, 'listen', 'waiter.listen');
around(ResultWaiter.prototype, 'resolveWith', 'waiter.resolveWith');
around(JobScorer.prototype, 'process', 'worker.process');

// ---- the service, as bench runs it ---------------------------------------------------------
const { buildApi } = await import('@rerank-pool/api');
const { RerankWorker } = await import('@rerank-pool/worker');
const { loadConfig } = await import('@rerank-pool/config');
const { generateWorkload, percentile } = await import('@rerank-pool/bench');
const { deleteKeysWithPrefix } = await import('@rerank-pool/queue');
const { ensureSyntheticModel } = await dist('apps/cli/dist/synthetic-model.js');

const modelDir = resolve(root, '.rerank-pool', 'bench', 'tinybert-l2');
await ensureSyntheticModel('tinybert-l2', modelDir);
const prefix = `rerank-pool-overhead-${randomBytes(4).toString('hex')}`;
const config = loadConfig({
  ...process.env,
  REDIS_URL: values['redis-url'],
  QUEUE_PREFIX: prefix,
  RERANK_MODELS: modelDir,
  WORKER_CONCURRENCY: '32',
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'warn',
});
const quiet = { info() {}, warn() {}, error() {} };
const worker = await RerankWorker.start({ config, logger: quiet });
const app = await buildApi({ config, logger: false });
await app.listen({ host: '127.0.0.1', port: 0 });
app.server.prependListener('request', (req, res) => {
  mark('http.request');
  req.once('end', () => mark('http.body-read'));
  const end = res.end;
  res.end = function (...args) {
    mark('http.res.end');
    return end.apply(this, args);
  };
});
const url = new URL(`http://127.0.0.1:${app.server.address().port}/v2/rerank`);
const model = worker.modelIds[0];

function post(agent, body) {
  return new Promise((resolvePost, reject) => {
    const text = JSON.stringify(body);
    const req = httpRequest(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolvePost({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

// ---- hops ----------------------------------------------------------------------------------
/** The first mark named `what` (or matching it) at or after `from`. */
function find(list, what, from = -Infinity) {
  return list.find((m) => m.t >= from && (typeof what === 'string' ? m.what === what : what(m)));
}
const redisNamed = (name) => (m) => m.redis && m.what.endsWith(` ${name}`);

/**
 * One request's critical path as consecutive hops, each `[label, from, to]` with `from` and `to`
 * marks: they add up to the latency. The worker's own processing is one of them; the overhead
 * is the rest.
 */
function path(list) {
  const at = (mark) => mark && { t: mark.t, active: mark.active };
  const send = find(list, 'client.send');
  const enqueue = find(list, 'queue.enqueue:start');
  const add = find(list, (m) => m.redis && /addStandardJob|addPrioritizedJob/.test(m.what), enqueue?.t);
  const active = find(list, redisNamed('moveToActive'), add?.t);
  const process0 = find(list, 'worker.process:start', add?.t);
  const process1 = find(list, 'worker.process:end', process0?.t);
  // The worker publishes the result on the API's reply channel; the API's waiter takes it from there.
  const published = find(list, redisNamed('publish'), process1?.t);
  const taken = find(list, 'waiter.resolveWith:start', published?.t);
  const resolved = find(list, 'service.rerank:end', taken?.t);
  const points = [
    ['client sends; server reads the request (connect, headers)', at(send), at(find(list, 'http.request'))],
    ['HTTP in: body read, JSON parsed, schema, hooks', at(find(list, 'http.request')), at(find(list, 'service.rerank:start'))],
    ['admission depth check, result listener, producer span', at(find(list, 'service.rerank:start')), at(enqueue)],
    ['enqueue until the add is sent (admission round trips)', at(enqueue), at(add)],
    ['add runs, marker wakes the worker, moveToActive sent', at(add), at(active)],
    ['moveToActive round trip, job read, processor called', at(active), at(process0)],
    ['worker processing (tokenize, batch wait, inference)', at(process0), at(process1)],
    ['processor done -> result published', at(process1), at(published)],
    ['published; the API takes the reply off its channel', at(published), at(taken)],
    ['result checked, wait resolved, service returns', at(taken), at(resolved)],
    ['response built and serialized (res.end)', at(resolved), at(find(list, 'http.res.end', resolved?.t))],
    ['response reaches the client', at(find(list, 'http.res.end', resolved?.t)), at(find(list, 'client.received'))],
  ];
  const apiCommands = enqueue && add ? list.filter((m) => m.redis && m.what.startsWith(add.what.split(' ')[0] + ' ') && m.t >= enqueue.t && m.t <= add.t).length : NaN;
  return { points, apiCommands };
}

/** Wall and main-thread busy ms of each hop of one request (NaN where a mark is missing), and its totals. */
function hops(list, reportedInferenceMs) {
  const { points, apiCommands } = path(list);
  const hop = {};
  for (const [label, from, to] of points) {
    hop[label] = from && to ? { wall: to.t - from.t, busy: to.active - from.active } : { wall: NaN, busy: NaN };
  }
  const send = find(list, 'client.send');
  const received = find(list, 'client.received');
  const latency = received.t - send.t;
  const totals = {
    'total latency': { wall: latency, busy: received.active - send.active },
    'overhead (latency - reported processing)': { wall: latency - reportedInferenceMs, busy: NaN },
    'Redis commands in the enqueue, add included': { wall: apiCommands, busy: NaN },
  };
  return { hop, totals };
}

function printTimeline(list) {
  const t0 = list[0].t;
  for (const m of list) {
    const replied = m.replied === undefined ? '' : ` (answered +${(m.replied - m.t).toFixed(3)} ms)`;
    process.stdout.write(`  ${(m.t - t0).toFixed(3).padStart(8)} ms  ${m.what}${replied}\n`);
  }
}

const WARM_UP = 200;
const workload = generateWorkload({ queries: samples + WARM_UP, docs: 30, seed: 1 });
try {
  // Warm-up: JIT, pool threads, connections (as bench's throughput phases before its latency phase).
  const warm = new Agent({ keepAlive: true });
  await Promise.all(
    Array.from({ length: 4 }, async (_, lane) => {
      for (let i = lane; i < WARM_UP; i += 4) await post(warm, { model, query: workload[i].query, documents: workload[i].documents });
    }),
  );
  warm.destroy();
  const keepAlive = values['new-connections'] ? undefined : new Agent({ keepAlive: true, maxSockets: 1 });
  const runs = [];
  for (let i = 0; i < samples; i++) {
    const request = workload[WARM_UP + i];
    const agent = keepAlive ?? new Agent({ keepAlive: true, maxSockets: 1 });
    marks = [];
    mark('client.send');
    const reply = await post(agent, { model, query: request.query, documents: request.documents.slice(0, docs) });
    mark('client.received');
    if (agent !== keepAlive) agent.destroy();
    if (reply.status !== 200) throw new Error(`POST /v2/rerank answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    const list = marks.slice().sort((a, b) => a.t - b.t);
    runs.push({ list, ...hops(list, reply.body.meta?.timings_ms?.inference ?? NaN) });
  }
  process.stdout.write(
    `overhead breakdown: ${samples} x (1 query x ${docs} documents), one at a time, ${keepAlive ? 'one kept-alive connection (as bench)' : 'a new connection each'}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`,
  );
  process.stdout.write(`${'hop (ms)'.padEnd(58)}${'p50'.padStart(9)}${'p95'.padStart(9)}${'busy p50'.padStart(9)}\n`);
  const cell = (value) => (Number.isFinite(value) ? value.toFixed(3) : '-').padStart(9);
  const line = (name, series) => {
    const wall = series.map((s) => s.wall).filter((v) => Number.isFinite(v));
    const busyMs = series.map((s) => s.busy).filter((v) => Number.isFinite(v));
    const p50 = wall.length ? percentile(wall, 50) : NaN;
    process.stdout.write(`${name.padEnd(58)}${cell(p50)}${cell(wall.length ? percentile(wall, 95) : NaN)}${cell(busyMs.length ? percentile(busyMs, 50) : NaN)}\n`);
    return p50;
  };
  let outsideWorker = 0;
  for (const name of Object.keys(runs[0].hop)) {
    const p50 = line(name, runs.map((r) => r.hop[name]));
    if (!name.startsWith('worker processing')) outsideWorker += p50;
  }
  process.stdout.write(`${'sum of the medians of the hops outside the worker'.padEnd(58)}${cell(outsideWorker)}\n`);
  for (const name of Object.keys(runs[0].totals)) line(name, runs.map((r) => r.totals[name]));
  if (values.timeline) {
    const overhead = (run) => run.totals['overhead (latency - reported processing)'].wall;
    const byOverhead = [...runs].sort((a, b) => overhead(a) - overhead(b));
    process.stdout.write('\ntimeline of the median request:\n');
    printTimeline(byOverhead[Math.floor(byOverhead.length / 2)].list);
  }
  keepAlive?.destroy();
} finally {
  await app.close();
  await worker.close();
  const redis = new Redis(values['redis-url']);
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
}
