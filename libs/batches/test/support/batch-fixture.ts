import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { Errors, encodeJobFailure } from '@rerank-pool/contracts';
import type { RerankJobData, RerankJobResult } from '@rerank-pool/contracts';
import { openObjectStore } from '@rerank-pool/object-store';
import type { ObjectStore } from '@rerank-pool/object-store';
import { deleteKeysWithPrefix, lineQueueNameForModel } from '@rerank-pool/queue';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { BatchLineSettler, BatchService } from '../../src/index.js';
import type { BatchOptions, BatchState, LineParser, RawLine } from '../../src/index.js';

export const MODEL = 'org/tiny';
export const connection = redisOptionsFromUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const defaultConnection = connection;

/**
 * A line parser like the API's, reduced to what these tests need: `{id?, query, documents,
 * top_n?}`; a line that is not such an object is that line's error.
 */
export const testParser: LineParser = {
  parse(line: RawLine, { tenant, trace }) {
    if ('tooLongBytes' in line) return { id: line.number, error: Errors.payloadTooLarge(`line ${line.number} has ${line.tooLongBytes} bytes`) };
    let value: any;
    try {
      value = JSON.parse(line.text);
    } catch {
      return { id: line.number, error: Errors.invalidRequest(`line ${line.number} is not valid JSON`) };
    }
    const id = value?.id ?? line.number;
    if (typeof value?.query !== 'string' || !Array.isArray(value.documents)) return { id, error: Errors.invalidRequest('query is required', 'query') };
    const job: RerankJobData = {
      v: 1,
      model: MODEL,
      query: value.query,
      documents: value.documents,
      options: {},
      priority: 'batch',
      tenant,
      createdAt: Date.now(),
      trace,
      response: value.top_n === undefined ? undefined : { topN: value.top_n },
    };
    return { id, job };
  },
  idOf(line) {
    if ('tooLongBytes' in line) return line.number;
    try {
      return JSON.parse(line.text).id ?? line.number;
    } catch {
      return line.number;
    }
  },
};

/** Document i of a line whose query is "q<n>" scores (n + 1 + i) / 1e6; a query "fail" fails for good. */
export function scoreOf(query: string, document: number): number {
  return (Number(query.slice(1)) + 1 + document) / 1e6;
}

export function requestLine(n: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ id: `line-${n}`, query: `q${n}`, documents: ['a', 'b'], ...extra });
}

export interface BatchFixture {
  prefix: string;
  store: ObjectStore;
  storeDir: string;
  redis: Redis;
  /** A batch service (an API process's share); more can be made for several replicas. */
  service(overrides?: Partial<BatchOptions>): BatchService;
  /** A real BullMQ consumer of the model queue that settles lines like the worker does. */
  worker(options?: { concurrency?: number; delayMs?: number }): Worker;
  queue: Queue;
  /** Uploads lines (strings) through a service's upload writer, returns the batch id. */
  upload(service: BatchService, lines: readonly string[], idempotencyKey?: string): Promise<string>;
  waitFinished(service: BatchService, batchId: string, timeoutMs?: number): Promise<BatchState>;
  results(service: BatchService, batchId: string): Promise<any[]>;
  close(): Promise<void>;
}

/** `connection` defaults to REDIS_URL (the suite's shared Redis); tests that measure Redis start their own. */
export async function batchFixture(options: { connection?: RedisOptions } = {}): Promise<BatchFixture> {
  const connection = options.connection ?? defaultConnection;
  const prefix = `rp-test-batches-${randomBytes(5).toString('hex')}`;
  const storeDir = await mkdtemp(join(tmpdir(), 'rp-batch-store-'));
  const store = openObjectStore(pathToFileURL(storeDir).href);
  const redis = new Redis(connection);
  const closers: (() => Promise<unknown>)[] = [];
  const queue = new Queue(lineQueueNameForModel(MODEL), { connection, prefix });
  closers.push(() => queue.close());
  const fixture: BatchFixture = {
    prefix,
    store,
    storeDir,
    redis,
    queue,
    service(overrides = {}) {
      const service = new BatchService({ connection, store, models: [MODEL], parser: testParser, prefix, tickMs: 20, flushIntervalMs: 200, reconcileIntervalMs: 500, driverLeaseMs: 2000, ...overrides });
      closers.push(() => service.close());
      return service;
    },
    worker({ concurrency = 16, delayMs = 0 } = {}) {
      const settler = new BatchLineSettler(redis, prefix);
      const worker = new Worker<RerankJobData, unknown>(
        lineQueueNameForModel(MODEL),
        settler.wrap(async (job) => {
          if (job.data.query === 'fail') throw new UnrecoverableError(encodeJobFailure(Errors.inputTooLong('too long', 'documents[0]')));
          if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
          const scores = job.data.documents.map((_, i) => scoreOf(job.data.query, i));
          const result: RerankJobResult = {
            v: 1,
            model: job.data.model,
            scores,
            logits: scores,
            inputTokens: 3 * job.data.documents.length,
            timings: { queueMs: 1, inferenceMs: 1 },
          };
          return result;
        }),
        { connection, prefix, concurrency },
      );
      worker.on('error', () => {});
      closers.push(() => worker.close());
      return worker;
    },
    async upload(service, lines, idempotencyKey) {
      const { batchId, upload } = await service.openUpload({ tenant: 'default', idempotencyKey });
      for (const [i, text] of lines.entries()) await upload!.append({ number: i + 1, text });
      await upload!.seal();
      return batchId;
    },
    async waitFinished(service, batchId, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const state = await service.status(batchId, 'default');
        if (state.finishedAt !== undefined) return state;
        if (Date.now() > deadline) throw new Error(`batch ${batchId} did not finish: ${JSON.stringify(state)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async results(service, batchId) {
      const chunks: Buffer[] = [];
      for await (const chunk of await service.results(batchId, 'default')) chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('utf8');
      return text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line));
    },
    async close() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
      await store.close();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
  return fixture;
}
