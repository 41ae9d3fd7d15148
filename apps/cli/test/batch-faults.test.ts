import { once } from 'node:events';
import { request } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InferencePool } from '@rerank-pool/model-runtime';
import { synthesizeModel } from '@rerank-pool/model-synth';
import { startPrivateRedis, watchMemory } from '../../../libs/batches/test/support/private-redis.js';
import type { PrivateRedis } from '../../../libs/batches/test/support/private-redis.js';
import { freePort, startApiProcess, startWorkerProcess } from './support/service-processes.js';
import type { ServiceProcess } from './support/service-processes.js';

/**
 * Offline batches through real processes (`rerank-pool api`, two `rerank-pool worker`s, a
 * redis-server with AOF), with faults: every line settles exactly once, counters and results.
 * The suite runs a few thousand lines; `npm run chaos` runs the same scenarios at 100,000.
 */
const LINES = Number(process.env.BATCH_FAULT_LINES ?? 4000);
const SCENARIO_TIMEOUT_MS = Math.max(240_000, LINES * 20);
const SAMPLE = 150;
const TOLERANCE = 1e-4;

let root: string;
let modelDir: string;
let local: InferencePool;
const running: ServiceProcess[] = [];
let redis: PrivateRedis | undefined;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rp-batch-faults-'));
  modelDir = join(root, 'synthetic-tiny');
  await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 17 });
  local = await InferencePool.open({ modelDir, threads: 1 });
});

afterEach(async () => {
  for (const proc of running.splice(0)) await proc.kill();
  await redis?.stop();
  redis = undefined;
});

afterAll(async () => {
  await local?.close();
  await rm(root, { recursive: true, force: true });
});

const WORDS = ['ranking', 'passage', 'query', 'model', 'score', 'search', 'token', 'batch', 'worker', 'queue', 'vector', 'index'];

function text(seed: number, words: number): string {
  return Array.from({ length: words }, (_, i) => WORDS[(seed * 7 + i * 3) % WORDS.length]).join(' ');
}

/** Scored tokens per document: long documents cost upload bytes, not inference time. */
const MAX_TOKENS_PER_DOC = 16;

/** Line i: 1 query x 2 documents; `words` sets the documents' length. */
function line(i: number, words: number): { id: string; query: string; documents: string[]; max_tokens_per_doc: number } {
  return { id: `l${i}`, query: text(i, 3), documents: [text(i + 1, words), text(i + 2, words)], max_tokens_per_doc: MAX_TOKENS_PER_DOC };
}

interface Cluster {
  env: Record<string, string>;
  port: number;
  storeDir: string;
  api: ServiceProcess;
  workers: ServiceProcess[];
}

async function startCluster(): Promise<Cluster> {
  redis = await startPrivateRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  const storeDir = await mkdtemp(join(root, 'store-'));
  const env = {
    REDIS_URL: redis.url,
    RERANK_MODELS: modelDir,
    BATCH_STORE_URL: pathToFileURL(storeDir).href,
    POOL_THREADS: '1',
    WORKER_CONCURRENCY: '32',
    // Bounds the recovery of a killed worker's jobs (the default is 30 s).
    WORKER_LOCK_MS: '2000',
    BATCH_UPLOAD_LEASE_MS: '3000',
    LOG_LEVEL: 'warn',
  };
  const port = await freePort();
  const workers = [await startWorkerProcess(env), await startWorkerProcess(env)];
  const api = await startApiProcess(env, port);
  running.push(...workers, api);
  return { env, port, storeDir, api, workers };
}

async function replaceApi(cluster: Cluster): Promise<void> {
  cluster.api = await startApiProcess(cluster.env, cluster.port);
  running.push(cluster.api);
}

/**
 * Streams the upload; `onWritten(lines)` is called as lines go out and may return a promise
 * that pauses the upload (to kill the API under it). Resolves with the answer, or rejects when
 * the connection breaks.
 */
function upload(port: number, words: number, idempotencyKey: string, onWritten?: (lines: number) => Promise<void> | void): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: `/v1/batches?idempotency_key=${idempotencyKey}`, headers: { 'content-type': 'application/x-ndjson' } });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(body) }));
    });
    req.on('error', reject);
    const send = async () => {
      for (let i = 0; i < LINES; ) {
        let chunk = '';
        for (const end = Math.min(LINES, i + 200); i < end; i++) chunk += `${JSON.stringify(line(i, words))}\n`;
        // Listened for at once: a write that completes synchronously emits 'drain' before any await resumes.
        const drained = req.write(chunk) ? undefined : once(req, 'drain');
        await onWritten?.(i);
        await drained;
      }
      req.end();
    };
    send().catch(reject);
  });
}

async function uploadUntilAccepted(port: number, words: number, key: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { status, body } = await upload(port, words, key);
    if (status === 202) return body.id;
    // The killed API's upload lease holds the batch until it expires (BATCH_UPLOAD_LEASE_MS).
    if (status !== 409 || Date.now() > deadline) throw new Error(`upload answered ${status}: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function status(port: number, id: string): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v1/batches/${id}`);
      if (response.ok) return response.json();
      if (attempt > 200) throw new Error(`status answered ${response.status}: ${await response.text()}`);
    } catch (error) {
      // The API may be restarting or Redis away: ask again.
      if (attempt > 200) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function waitUntil(port: number, id: string, predicate: (state: any) => boolean): Promise<any> {
  const deadline = Date.now() + SCENARIO_TIMEOUT_MS;
  for (;;) {
    const state = await status(port, id);
    if (predicate(state)) return state;
    if (Date.now() > deadline) throw new Error(`batch ${id} not there in time: ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Counters exact, every line's result once in input order, scores equal to scoring the line alone. */
async function expectExact(port: number, id: string, words: number): Promise<void> {
  const state = await waitUntil(port, id, (s) => s.finished_at !== undefined);
  expect(state).toMatchObject({ status: 'completed', total: LINES, completed: LINES, failed: 0, cancelled: 0, pairs: { total: 2 * LINES, completed: 2 * LINES } });
  const response = await fetch(`http://127.0.0.1:${port}/v1/batches/${id}/results`);
  expect(response.status).toBe(200);
  const results = (await response.text()).trimEnd().split('\n').map((text) => JSON.parse(text));
  expect(results.length).toBe(LINES);
  const misplaced = results.filter((result, i) => result.index !== i || result.id !== `l${i}` || result.results?.length !== 2);
  expect(misplaced.slice(0, 3)).toEqual([]);
  for (let k = 0; k < SAMPLE; k++) {
    const i = Math.floor((k * LINES) / SAMPLE);
    const expected = await local.score(line(i, words).query, line(i, words).documents, { maxTokensPerDoc: MAX_TOKENS_PER_DOC });
    for (const result of results[i].results) expect(Math.abs(result.relevance_score - expected.scores[result.index]!)).toBeLessThanOrEqual(TOLERANCE);
  }
}

/**
 * Logs how long after `since` (a fault) the batch got past `completed` lines: the fault's
 * recovery time as a client sees it. A measurement for the report, not an assertion.
 */
async function logRecovery(port: number, id: string, what: string, since: number, completed: number): Promise<void> {
  const state = await waitUntil(port, id, (s) => s.completed > completed || s.finished_at !== undefined);
  console.log(`${what}: past ${completed} completed lines ${((Date.now() - since) / 1000).toFixed(1)} s after the fault (now ${state.completed})`);
}

/**
 * Whether the upload has a part stored and recorded in Redis (`upload_parts` of its batch). The
 * file alone is not enough: the API writes it first and records it next, and a part whose API
 * dies in between is written again by the resumed upload.
 */
async function hasCommittedPart(redisPort: number): Promise<boolean> {
  const client = new Redis({ port: redisPort, maxRetriesPerRequest: 1 });
  try {
    const metas = (await client.keys('*:batch:{*}')).filter((key) => key.endsWith('}'));
    const parts = await Promise.all(metas.map((key) => client.hget(key, 'upload_parts')));
    return parts.some((count) => Number(count) >= 1);
  } finally {
    client.disconnect();
  }
}

/**
 * The README's bound with the default window (10,000 lines, 64 MiB): twice the window's input,
 * 2 KB of bookkeeping per window line, and the queue's event stream.
 */
function expectWithinWindowBound(peak: number, words: number): void {
  const lineBytes = JSON.stringify(line(0, words)).length + 1;
  const windowLines = Math.min(10_000, LINES);
  const bound = 2 * Math.min(windowLines * lineBytes, 64 * 1024 * 1024) + windowLines * 2048 + 4 * 1024 * 1024;
  console.log(`${LINES} lines of ${lineBytes} bytes (${((LINES * lineBytes) / 1e6).toFixed(0)} MB): Redis peak ${(peak / 1e6).toFixed(1)} MB over its baseline (bound ${(bound / 1e6).toFixed(1)} MB)`);
  expect(peak).toBeLessThan(bound);
}

describe(`when a ${LINES}-line batch runs through API and worker processes`, () => {
  it('should settle exactly with no fault, with Redis memory within the window bound', async () => {
    const cluster = await startCluster();
    const memory = await watchMemory(redis!.port, 100);
    const id = await uploadUntilAccepted(cluster.port, 8, 'no-fault');
    await expectExact(cluster.port, id, 8);
    expectWithinWindowBound(await memory.stop(), 8);
  }, SCENARIO_TIMEOUT_MS);

  it('should settle exactly when a worker is killed (-9) mid-run', async () => {
    const cluster = await startCluster();
    const id = await uploadUntilAccepted(cluster.port, 8, 'worker-kill');
    const before = await waitUntil(cluster.port, id, (s) => s.completed >= LINES / 3);
    const killed = Date.now();
    await cluster.workers[0]!.kill();
    await logRecovery(cluster.port, id, 'worker kill -9, progress', killed, before.completed);
    await expectExact(cluster.port, id, 8);
    console.log(`worker kill -9: the batch finished ${((Date.now() - killed) / 1000).toFixed(1)} s after the kill`);
  }, SCENARIO_TIMEOUT_MS);

  it('should settle exactly when the API is killed (-9) mid-upload and the upload is sent again, within the window bound', async () => {
    const cluster = await startCluster();
    const memory = await watchMemory(redis!.port, 100);
    // Long documents, so the upload's first 8 MiB part is stored well before its end.
    const words = 200;
    let killed = false;
    await expect(
      upload(cluster.port, words, 'api-kill', async (written) => {
        // Most of the body is out (about 9 MB): the upload holds back the rest until the API has
        // stored its first part, then the API dies under it.
        if (killed || written < LINES * 0.9) return;
        while (!(await hasCommittedPart(redis!.port))) await new Promise((resolve) => setTimeout(resolve, 20));
        killed = true;
        await cluster.api.kill();
      }),
    ).rejects.toThrow();
    expect(killed).toBe(true);
    await replaceApi(cluster);
    const id = await uploadUntilAccepted(cluster.port, words, 'api-kill');
    // The part stored before the crash was kept: the resumed upload (another token) wrote the rest.
    const parts = (await readdir(join(cluster.storeDir, 'batches', id, 'input'))).sort();
    const tokens = parts.map((name) => name.slice(name.indexOf('-') + 1));
    expect(parts[0]).toMatch(/^00000000-/);
    expect(tokens.at(-1)).not.toBe(tokens[0]);
    await expectExact(cluster.port, id, words);
    expectWithinWindowBound(await memory.stop(), words);
  }, SCENARIO_TIMEOUT_MS);

  it('should settle exactly when the API is killed (-9) mid-run and another takes over', async () => {
    const cluster = await startCluster();
    const id = await uploadUntilAccepted(cluster.port, 8, 'api-kill-run');
    const before = await waitUntil(cluster.port, id, (s) => s.completed >= LINES / 3);
    const killed = Date.now();
    await cluster.api.kill();
    await replaceApi(cluster);
    // Workers finish the fed window on their own; lines past it need the new API's driver.
    await logRecovery(cluster.port, id, 'API kill -9 mid-run, driver takeover', killed, Math.min(LINES - 1, before.completed + 10_000));
    await expectExact(cluster.port, id, 8);
  }, SCENARIO_TIMEOUT_MS);

  it('should settle exactly across a Redis restart with AOF mid-run', async () => {
    const cluster = await startCluster();
    const id = await uploadUntilAccepted(cluster.port, 8, 'redis-restart');
    await waitUntil(cluster.port, id, (s) => s.completed >= LINES / 3);
    const { port, dir } = redis!;
    await redis!.stop({ keepDir: true });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    redis = await startPrivateRedis({ port, dir, args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    const back = Date.now();
    // What the AOF restored, read before the service's clients have reconnected.
    const restored = new Redis({ port, host: '127.0.0.1' });
    const completed = Number(await restored.hget(`rerank-pool:batch:{${id}}`, 'completed'));
    restored.disconnect();
    await logRecovery(cluster.port, id, 'Redis restart, progress', back, completed);
    await expectExact(cluster.port, id, 8);
  }, SCENARIO_TIMEOUT_MS);
});
