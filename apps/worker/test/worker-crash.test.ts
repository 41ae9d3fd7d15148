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

describe('when a worker process dies holding jobs', () => {
  const { prefix, cleanup } = testPrefix('crash');
  let root: string;
  let modelDir: string;
  let queue: RerankQueue;
  let inspector: Queue;
  let local: InferencePool;
  const workers: WorkerProcess[] = [];
  const rng = createRng(5);
  const env = { REDIS_URL, QUEUE_PREFIX: prefix, POOL_THREADS: '1', WORKER_CONCURRENCY: '4', WORKER_LOCK_MS: '2000' };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-crash-'));
    modelDir = join(root, 'synthetic-crash');
    await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 8 });
    queue = new RerankQueue(basename(modelDir), { connection: redisOptionsFromUrl(REDIS_URL), prefix });
    inspector = new Queue(queueNameForModel(basename(modelDir)), { connection: redisOptionsFromUrl(REDIS_URL), prefix });
    local = await InferencePool.open({ modelDir, threads: 1 });
  });

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await queue?.close();
    await inspector?.close();
    await local?.close();
    await cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('should have another worker finish every accepted job, each once and with its own scores', async () => {
    // Jobs large enough that the first worker is still busy when it is killed.
    const jobs: RerankJobData[] = Array.from({ length: 24 }, (_, j) => ({
      v: 1,
      model: basename(modelDir),
      query: `crash query ${j}`,
      documents: Array.from({ length: 200 }, () => syntheticText(rng, 20 + Math.floor(rng() * 200))),
      options: {},
      priority: 'interactive',
      tenant: 'default',
      createdAt: Date.now(),
    }));
    const ids = await Promise.all(jobs.map(async (data) => (await queue.enqueue(data)).jobId));

    const doomed = await startWorkerProcess(env, [modelDir]);
    workers.push(doomed);
    for (let i = 0; i < 400 && (await inspector.getActiveCount()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const orphaned = await inspector.getActiveCount();
    expect(orphaned).toBeGreaterThan(0);

    workers.push(await startWorkerProcess(env, [modelDir]));
    const results = await Promise.all(ids.map((id, j) => queue.waitForResult(id, jobs[j]!.documents.length, 60_000)));
    for (const [j, result] of results.entries()) {
      const alone = await local.score(jobs[j]!.query, jobs[j]!.documents);
      result.scores.forEach((score, i) => expect(Math.abs(score - alone.scores[i]!)).toBeLessThanOrEqual(1e-4));
    }
    const finished = await Promise.all(ids.map((id) => inspector.getJob(id)));
    expect(finished.every((job) => job?.finishedOn !== undefined && job.failedReason === undefined)).toBe(true);
    // The orphans were recovered as stalled jobs, not lost and not run twice to two results.
    expect(await inspector.getCompletedCount()).toBe(24);
  }, 120_000);
});
