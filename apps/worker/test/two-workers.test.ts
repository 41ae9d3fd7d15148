import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RerankJobData } from '@rerank-pool/contracts';
import { InferencePool } from '@rerank-pool/model-runtime';
import { createRng, synthesizeModel, syntheticText } from '@rerank-pool/model-synth';
import { queueNameForModel, RerankQueue } from '@rerank-pool/queue';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.js';

describe('when two worker processes share one queue', () => {
  const { prefix, cleanup } = testPrefix('two-workers');
  let root: string;
  let modelDir: string;
  let modelId: string;
  let queue: RerankQueue;
  let local: InferencePool;
  const workers: WorkerProcess[] = [];
  const rng = createRng(77);

  const jobFor = (j: number): RerankJobData => ({
    v: 1,
    model: modelId,
    query: `question ${j}: ${syntheticText(rng, 2 + (j % 6))}`,
    documents: Array.from({ length: 2 + Math.floor(rng() * 18) }, () => syntheticText(rng, 1 + Math.floor(rng() * 100))),
    options: {},
    priority: j % 3 === 0 ? 'batch' : 'interactive',
    tenant: 'default',
    createdAt: Date.now(),
  });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-workers-'));
    modelDir = join(root, 'synthetic-tiny');
    modelId = basename(modelDir);
    await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 11 });
    const env = { REDIS_URL, QUEUE_PREFIX: prefix, POOL_THREADS: '1', WORKER_CONCURRENCY: '8', MAX_BATCH_WAIT_MS: '10' };
    workers.push(...(await Promise.all([startWorkerProcess(env, [modelDir]), startWorkerProcess(env, [modelDir])])));
    queue = new RerankQueue(modelId, { connection: redisOptionsFromUrl(REDIS_URL), prefix });
    local = await InferencePool.open({ modelDir, threads: 1 });
  });

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await queue?.close();
    await local?.close();
    await cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('should give every job exactly its own scores, from both workers', async () => {
    const jobs = Array.from({ length: 60 }, (_, j) => jobFor(j));
    const ids = await Promise.all(jobs.map(async (data) => (await queue.enqueue(data)).jobId));
    const results = await Promise.all(ids.map((id, j) => queue.waitForResult(id, jobs[j]!.documents.length, 60_000)));
    for (const [j, result] of results.entries()) {
      const alone = await local.score(jobs[j]!.query, jobs[j]!.documents);
      expect(result.scores).toHaveLength(jobs[j]!.documents.length);
      result.scores.forEach((score, i) => expect(Math.abs(score - alone.scores[i]!)).toBeLessThanOrEqual(1e-4));
      expect(result.inputTokens).toBe(alone.inputTokens);
    }
    const bull = new Queue(queueNameForModel(modelId), { connection: redisOptionsFromUrl(REDIS_URL), prefix });
    const processedBy = new Set((await Promise.all(ids.map((id) => bull.getJob(id)))).map((job) => job?.processedBy));
    await bull.close();
    expect(processedBy.size).toBe(2);
  });

  it('should finish every accepted job when a worker is stopped with SIGTERM mid-load', async () => {
    const jobs = Array.from({ length: 40 }, (_, j) => jobFor(100 + j));
    const ids = await Promise.all(jobs.map(async (data) => (await queue.enqueue(data)).jobId));
    workers[0]!.child.kill('SIGTERM');
    const results = await Promise.all(ids.map((id, j) => queue.waitForResult(id, jobs[j]!.documents.length, 60_000)));
    expect(results).toHaveLength(40);
    for (const [j, result] of results.entries()) {
      const alone = await local.score(jobs[j]!.query, jobs[j]!.documents);
      result.scores.forEach((score, i) => expect(Math.abs(score - alone.scores[i]!)).toBeLessThanOrEqual(1e-4));
    }
    expect(await workers[0]!.exited).toBe(0);
    expect(workers[0]!.output()).toContain('worker stopped');
  });
});
