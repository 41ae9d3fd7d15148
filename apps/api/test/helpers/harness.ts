import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue, Worker, type Job } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { loadConfig } from '@rerank-pool/config';
import type { Config } from '@rerank-pool/config';
import type { RerankJobData, RerankJobResult } from '@rerank-pool/contracts';
import { BatchLineSettler } from '@rerank-pool/batches';
import { checkDeadline, deleteKeysWithPrefix, lineQueueNameForModel, queueNameForModel, toJobFailure } from '@rerank-pool/queue';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { buildApi } from '../../src/index.js';

export const MODEL = 'test-org/tiny-reranker';
/** A second served model that no consumer serves: requests to it wait and time out. */
export const IDLE_MODEL = 'test-org/idle-reranker';
export const connection = redisOptionsFromUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

export interface Harness {
  app: FastifyInstance;
  config: Config;
  prefix: string;
  /** The directory of this harness's batch store (BATCH_STORE_URL). */
  batchStoreDir: string;
  /** Jobs in any state in a model's queue and its batch line queue: proves a rejected request never reached Redis. */
  jobCount(model?: string): Promise<number>;
  close(): Promise<void>;
}

/** A batch store directory of the test's own (BATCH_STORE_URL), removed by `remove`. */
export function temporaryBatchStore(): { url: string; dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'rp-test-batch-store-'));
  return { url: pathToFileURL(dir).href, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function createHarness(env: Record<string, string> = {}): Promise<Harness> {
  const prefix = `rp-test-${randomBytes(6).toString('hex')}`;
  const batchStore = temporaryBatchStore();
  const config = loadConfig({ RERANK_MODELS: `${MODEL},${IDLE_MODEL}`, QUEUE_PREFIX: prefix, BATCH_STORE_URL: batchStore.url, ...env });
  const app = await buildApi({ config, logger: false });
  const inspectors = new Map<string, Queue>();
  const inspector = (name: string) => {
    let queue = inspectors.get(name);
    if (!queue) {
      queue = new Queue(name, { connection, prefix });
      inspectors.set(name, queue);
    }
    return queue;
  };
  return {
    app,
    config,
    prefix,
    batchStoreDir: batchStore.dir,
    async jobCount(model = MODEL) {
      const counts = await Promise.all([queueNameForModel(model), lineQueueNameForModel(model)].map((name) => inspector(name).getJobCounts()));
      return counts.flatMap((byState) => Object.values(byState)).reduce((sum, count) => sum + count, 0);
    },
    async close() {
      await app.close();
      await Promise.all([...inspectors.values()].map((queue) => queue.close()));
      await deleteKeys(prefix);
      batchStore.remove();
    },
  };
}

/** Listens on a free loopback port, for tests that need real HTTP (streams, SDKs); returns the port. */
export async function listenOnLoopback(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as { port: number }).port;
}

export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(connection);
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
}

/**
 * Scores fixed per document by the test (the real scoring path is proven with the worker): a
 * document's score is the number it starts with divided by 100, so "70 ..." scores 0.7.
 */
export function fixedScores(documents: readonly string[]): number[] {
  return documents.map((document) => Number.parseInt(document, 10) / 100);
}

/** The consumers of a model's queue and of its batch line queue, as a worker runs them. */
export interface FixedScoreConsumer {
  onCompleted(listener: (job: Job<RerankJobData>) => void): void;
  close(): Promise<void>;
}

/**
 * Real BullMQ consumers of the model's queue and of its batch line queue that answer with
 * `fixedScores`, and settle batch lines as the worker does.
 */
export function startFixedScoreConsumer(
  prefix: string,
  process: (data: RerankJobData) => RerankJobResult | Promise<RerankJobResult> = resultWithFixedScores,
  model = MODEL,
): FixedScoreConsumer {
  const settlements = new Redis(connection);
  const settler = new BatchLineSettler(settlements, prefix);
  const workers = [queueNameForModel(model), lineQueueNameForModel(model)].map(
    (name) =>
      new Worker<RerankJobData>(
        name,
        settler.wrap(async (job) => {
          try {
            checkDeadline(job.data, job.id);
          } catch (error) {
            throw toJobFailure(error);
          }
          return process(job.data);
        }),
        { connection, prefix, concurrency: 4 },
      ),
  );
  return {
    onCompleted: (listener) => workers.forEach((worker) => worker.on('completed', listener)),
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
      await settlements.quit().catch(() => undefined);
    },
  };
}

export function resultWithFixedScores(data: RerankJobData): RerankJobResult {
  const scores = fixedScores(data.documents);
  return {
    v: 1,
    model: data.model,
    scores,
    logits: scores.map((score) => Math.log(score / (1 - score))),
    inputTokens: 10 * data.documents.length,
    timings: { queueMs: 3, inferenceMs: 4 },
  };
}
