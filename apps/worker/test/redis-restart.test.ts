import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RerankJobData } from '@rerank-pool/contracts';
import { InferencePool } from '@rerank-pool/model-runtime';
import { synthesizeModel } from '@rerank-pool/model-synth';
import { RerankQueue } from '@rerank-pool/queue';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A private redis-server with AOF persistence, as the deployment's infra/redis/redis.conf sets it. */
async function startRedis(dir: string, port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
  const redis = new Redis({ port, lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null });
  redis.on('error', () => undefined); // refused until the server is up; retried
  await redis.connect().catch(() => undefined);
  await redis.ping();
  redis.disconnect();
  return child;
}

describe('when Redis restarts with persistence while jobs wait', () => {
  let root: string;
  let modelDir: string;
  let port: number;
  let redis: ChildProcess | undefined;
  let worker: WorkerProcess | undefined;
  let local: InferencePool;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-redis-restart-'));
    modelDir = join(root, 'synthetic-restart');
    await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 12 });
    port = await freePort();
    local = await InferencePool.open({ modelDir, threads: 1 });
  });

  afterAll(async () => {
    if (worker?.child.exitCode === null) worker.child.kill('SIGKILL');
    if (redis?.exitCode === null) redis.kill('SIGKILL');
    await local?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('should still hold every accepted job afterwards and compute each one', async () => {
    redis = await startRedis(root, port);
    const url = `redis://127.0.0.1:${port}`;
    const queue = new RerankQueue(basename(modelDir), { connection: redisOptionsFromUrl(url), prefix: 'rp-restart' });
    const jobs: RerankJobData[] = Array.from({ length: 10 }, (_, j) => ({
      v: 1,
      model: basename(modelDir),
      query: `persisted query ${j}`,
      documents: [`first passage of job ${j}`, `second passage of job ${j} is a little longer`],
      options: {},
      priority: 'batch',
      tenant: 'default',
      createdAt: Date.now(),
    }));
    const ids = await Promise.all(jobs.map(async (data) => (await queue.enqueue(data)).jobId));
    await queue.close();

    const stopped = new Promise((resolve) => redis!.once('exit', resolve));
    redis.kill('SIGTERM');
    await stopped;
    redis = await startRedis(root, port);

    const reader = new RerankQueue(basename(modelDir), { connection: redisOptionsFromUrl(url), prefix: 'rp-restart' });
    try {
      expect(await reader.depth()).toBe(10);
      worker = await startWorkerProcess({ REDIS_URL: url, QUEUE_PREFIX: 'rp-restart', POOL_THREADS: '1' }, [modelDir]);
      const results = await Promise.all(ids.map((id) => reader.waitForResult(id, 2, 30_000)));
      for (const [j, result] of results.entries()) {
        const alone = await local.score(jobs[j]!.query, jobs[j]!.documents);
        result.scores.forEach((score, i) => expect(Math.abs(score - alone.scores[i]!)).toBeLessThanOrEqual(1e-4));
      }
    } finally {
      await reader.close();
    }
  }, 90_000);
});
