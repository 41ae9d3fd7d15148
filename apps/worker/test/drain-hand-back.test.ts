import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '@rerank-pool/config';
import type { RerankJobData } from '@rerank-pool/contracts';
import { InferencePool } from '@rerank-pool/model-runtime';
import { createRng, synthesizeModel, syntheticText } from '@rerank-pool/model-synth';
import { queueNameForModel, RerankQueue } from '@rerank-pool/queue';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { RerankWorker } from '@rerank-pool/worker';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';

const quiet = { info() {}, warn() {}, error() {} };

describe('when a stopping worker runs out of drain time', () => {
  const { prefix, cleanup } = testPrefix('drain-hand-back');
  const rng = createRng(21);
  // Many small batches, about a second of work on one thread: most rows are still waiting in the
  // batcher when the drain time is up.
  const documents = Array.from({ length: 600 }, () => syntheticText(rng, 300));
  let root: string;
  let modelDir: string;
  let config: Config;
  let queue: RerankQueue;
  let inspector: Queue;
  const warnings: string[] = [];
  const logger = { ...quiet, warn: (message: string) => warnings.push(message) };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-drain-'));
    modelDir = join(root, 'synthetic-tiny');
    await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 5 });
    config = loadConfig({ REDIS_URL, QUEUE_PREFIX: prefix, RERANK_MODELS: modelDir, POOL_THREADS: '1', MAX_BATCH_TOKENS: '1024', HOST: '127.0.0.1' });
    const connection = redisOptionsFromUrl(REDIS_URL);
    queue = new RerankQueue(basename(modelDir), { connection, prefix });
    inspector = new Queue(queueNameForModel(basename(modelDir)), { connection, prefix });
  });

  afterAll(async () => {
    await queue?.close();
    await inspector?.close();
    await cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('should hand its active job back to the queue with no attempt spent, for another worker to finish', async () => {
    const first = await RerankWorker.start({ config, logger, drainTimeoutMs: 150 });
    const data: RerankJobData = {
      v: 1,
      model: basename(modelDir),
      query: 'which passage',
      documents,
      options: {},
      priority: 'interactive',
      tenant: 'default',
      createdAt: Date.now(),
    };
    const { jobId } = await queue.enqueue(data);
    for (let state = ''; state !== 'active'; state = await inspector.getJobState(jobId)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await first.close();

    expect(warnings).toContain('drain timed out; handing active jobs back to the queue');
    const handedBack = (await inspector.getJob(jobId))!;
    expect(['waiting', 'prioritized']).toContain(await handedBack.getState());
    expect(handedBack.attemptsMade).toBe(0);
    expect(handedBack.failedReason).toBeFalsy();

    const second = await RerankWorker.start({ config, logger: quiet });
    const local = await InferencePool.open({ modelDir, threads: 1 });
    try {
      const result = await queue.waitForResult(jobId, documents.length, 60_000);
      const alone = await local.score(data.query, documents);
      expect(result.scores).toHaveLength(documents.length);
      result.scores.forEach((score, i) => expect(Math.abs(score - alone.scores[i]!)).toBeLessThanOrEqual(1e-4));
      expect((await inspector.getJob(jobId))!.attemptsMade).toBe(1);
    } finally {
      await local.close();
      await second.close();
    }
  }, 60_000);
});
