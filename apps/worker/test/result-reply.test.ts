import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@rerank-pool/config';
import type { RerankJobData } from '@rerank-pool/contracts';
import { synthesizeModel } from '@rerank-pool/model-synth';
import { RerankQueue } from '@rerank-pool/queue';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { RerankMetrics } from '@rerank-pool/telemetry';
import { RerankWorker } from '@rerank-pool/worker';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';

const quiet = { info() {}, warn() {}, error() {} };

describe('when a real worker finishes jobs that name a replyTo channel', () => {
  const { prefix, cleanup } = testPrefix('result-reply');
  const connection = redisOptionsFromUrl(REDIS_URL);
  let root: string;
  let modelId: string;
  let queue: RerankQueue;
  let subscriber: Redis;
  let worker: RerankWorker;
  const messages: { channel: string; message: string }[] = [];

  const job = (overrides: Partial<RerankJobData> = {}): RerankJobData => ({
    v: 1,
    model: modelId,
    query: 'what a query asks',
    documents: ['the first document', 'a second, longer document about what the query asks', 'third'],
    options: {},
    priority: 'interactive',
    tenant: 'default',
    createdAt: Date.now(),
    ...overrides,
  });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-result-reply-'));
    const modelDir = join(root, 'synthetic-tiny');
    modelId = basename(modelDir);
    await synthesizeModel({ preset: 'tiny', outDir: modelDir, seed: 23 });
    queue = new RerankQueue(modelId, { connection, prefix });
    subscriber = new Redis(connection);
    subscriber.on('pmessage', (_pattern, channel, message) => messages.push({ channel, message }));
    await subscriber.psubscribe(`${prefix}:results:*`);
    const config = loadConfig({ REDIS_URL, QUEUE_PREFIX: prefix, RERANK_MODELS: modelDir, POOL_THREADS: '1', HOST: '127.0.0.1' });
    worker = await RerankWorker.start({ config, logger: quiet, metrics: new RerankMetrics() });
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.close();
    subscriber?.disconnect();
    await cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('should publish exactly the result it records, once, and nothing for jobs without a channel or that fail', async () => {
    const replyTo = `${prefix}:results:test-channel`;
    const named = await queue.enqueue(job({ replyTo }));
    const unnamed = await queue.enqueue(job());
    const failing = await queue.enqueue(job({ replyTo, deadline: Date.now() - 1 }));
    const recorded = await queue.waitForResult(named.jobId, 3, 30_000);
    await queue.waitForResult(unnamed.jobId, 3, 30_000);
    await expect(queue.waitForResult(failing.jobId, 3, 30_000)).rejects.toMatchObject({ code: 'deadline_exceeded' });

    await expect.poll(() => messages.length, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    // The failed job and the unnamed one have had their outcomes recorded: any message of theirs was sent before.
    expect(messages).toHaveLength(1);
    expect(messages[0]!.channel).toBe(replyTo);
    const reply = JSON.parse(messages[0]!.message) as { job: string; result: unknown };
    expect(reply.job).toBe(named.jobId);
    // Bit for bit what BullMQ stored: the caller gets the same scores from either path.
    expect(reply.result).toEqual(recorded);
  });
});
