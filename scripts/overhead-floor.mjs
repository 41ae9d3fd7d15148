#!/usr/bin/env node
// What the fixed stack costs a synchronous request on this machine before any of rerank-pool's
// worker runs: the floor under `bench`'s overhead (README, Performance, "overhead").
//
//   npx tsc -b && node scripts/overhead-floor.mjs [--samples 200] [--rounds 5]
//
// In one process, as bench runs the service, with 1 x 20 requests shaped like bench's, one at a
// time on a kept-alive connection, it measures in alternating rounds:
// - stack: a Fastify route that adds a BullMQ job and answers with the result QueueEvents brings
//   back, served by a BullMQ worker whose processor returns at once;
// - api: rerank-pool's own API (buildApi) in front of such a bare BullMQ worker, which publishes
//   on the job's reply channel as the real worker does;
// and the round trip of an ioredis PING. Prints the p50 latency of each round. A diagnostic, not a
// test: it asserts nothing, and its numbers are as noisy as the machine (it prints the load).
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue, QueueEvents, Worker } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const root = resolve(import.meta.dirname, '..');
const dist = (path) => import(resolve(root, path));
const { buildApi } = await dist('apps/api/dist/index.js');
const { loadConfig } = await dist('libs/config/dist/index.js');
const { deleteKeysWithPrefix, publishResult, queueNameForModel } = await dist('libs/queue/dist/index.js');
const { redisOptionsFromUrl } = await dist('libs/redis-connection/dist/index.js');
const { generateWorkload, percentile } = await dist('libs/bench/dist/index.js');

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '5' },
    'redis-url': { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const samples = Number(values.samples);
const rounds = Number(values.rounds);
const redisUrl = values['redis-url'];
const connection = { ...redisOptionsFromUrl(redisUrl), maxRetriesPerRequest: null };
const prefix = `rerank-pool-floor-${randomBytes(4).toString('hex')}`;
const MODEL = 'floor/model';
const requests = generateWorkload({ queries: samples, docs: 30, seed: 1 }).map((r) => ({ model: MODEL, query: r.query, documents: r.documents.slice(0, 20) }));

/** The result a rerank worker returns, with scores that need no model. */
function resultFor(data) {
  const scores = data.documents.map((_, i) => (i + 1) / (data.documents.length + 1));
  return { v: 1, model: data.model, scores, logits: scores.map((s) => Math.log(s / (1 - s))), inputTokens: 0, timings: { queueMs: 0, inferenceMs: 0 } };
}

/** Posts each request one at a time on one kept-alive connection; returns the p50 latency in ms. */
async function p50(url, list) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies = [];
  try {
    for (const body of list) {
      const sent = performance.now();
      const text = JSON.stringify(body);
      await new Promise((done, fail) => {
        const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => (res.statusCode === 200 ? done(JSON.parse(Buffer.concat(chunks).toString('utf8'))) : fail(new Error(`${url} answered ${res.statusCode}`))));
        });
        req.on('error', fail);
        req.end(text);
      });
      latencies.push(performance.now() - sent);
    }
  } finally {
    agent.destroy();
  }
  return percentile(latencies, 50);
}

const closers = [];
try {
  // The stack alone: add, a worker that returns at once, the completion event, the reply.
  const stackQueue = new Queue('floor', { connection, prefix });
  const stackEvents = new QueueEvents('floor', { connection, prefix });
  const stackWorker = new Worker('floor', async (job) => resultFor(job.data), { connection, prefix, concurrency: 32 });
  closers.push(() => stackWorker.close(), () => stackEvents.close(), () => stackQueue.close());
  await Promise.all([stackEvents.waitUntilReady(), stackWorker.waitUntilReady()]);
  const pending = new Map();
  stackEvents.on('completed', ({ jobId, returnvalue }) => {
    pending.get(jobId)?.(returnvalue);
    pending.delete(jobId);
  });
  const stack = Fastify();
  closers.push(() => stack.close());
  stack.post('/rerank', async (req) => {
    const job = await stackQueue.add('rerank', req.body);
    const result = await new Promise((done) => pending.set(job.id, done));
    return { id: job.id, results: result.scores.map((score, index) => ({ index, relevance_score: score })) };
  });
  await stack.listen({ host: '127.0.0.1', port: 0 });

  // rerank-pool's API in front of a bare worker of its model's queue.
  const config = loadConfig({ ...process.env, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, RERANK_MODELS: MODEL, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn' });
  const api = await buildApi({ config, logger: false });
  closers.push(() => api.close());
  await api.listen({ host: '127.0.0.1', port: 0 });
  const replies = new Redis(connection);
  closers.push(() => replies.quit());
  const apiWorker = new Worker(
    queueNameForModel(MODEL),
    async (job) => {
      const result = resultFor(job.data);
      if (typeof job.data.replyTo === 'string') publishResult(replies, job.data.replyTo, job.id, result);
      return result;
    },
    { connection, prefix, concurrency: 32 },
  );
  closers.unshift(() => apiWorker.close());
  await apiWorker.waitUntilReady();

  const stackUrl = new URL(`http://127.0.0.1:${stack.server.address().port}/rerank`);
  const apiUrl = new URL(`http://127.0.0.1:${api.server.address().port}/v2/rerank`);
  // Warm-up: JIT and connections.
  await p50(stackUrl, requests);
  await p50(apiUrl, requests);
  const measured = { stack: [], api: [] };
  for (let round = 0; round < rounds; round++) {
    measured.stack.push(await p50(stackUrl, requests));
    measured.api.push(await p50(apiUrl, requests));
  }
  const ping = new Redis(connection);
  closers.push(() => ping.quit());
  const rtt = [];
  for (let i = 0; i < 2000; i++) {
    const sent = performance.now();
    await ping.ping();
    rtt.push(performance.now() - sent);
  }
  const ms = (list) => list.map((v) => v.toFixed(2)).join(' ');
  process.stdout.write(`overhead floor: ${rounds} rounds x ${samples} (1 query x 20 documents), one at a time; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  process.stdout.write(`Fastify + BullMQ (add, a worker returning at once, QueueEvents), p50 ms per round: ${ms(measured.stack)}\n`);
  process.stdout.write(`rerank-pool's API + a bare BullMQ worker (reply channel), p50 ms per round:   ${ms(measured.api)}\n`);
  process.stdout.write(`ioredis PING round trip, p50 ms: ${percentile(rtt, 50).toFixed(3)}\n`);
} finally {
  for (const close of closers) await close().catch(() => undefined);
  const redis = new Redis(connection);
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
}
