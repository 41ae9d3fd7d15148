import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { buildApi } from '@rerank-pool/api';
import { loadConfig } from '@rerank-pool/config';
import { deleteKeysWithPrefix } from '@rerank-pool/queue';
import { openRedis, redisTarget } from '@rerank-pool/redis-connection';
import { RerankWorker } from '@rerank-pool/worker';

/** What every run of the workload scored, in request order: equal runs on any topology compare equal. */
export interface WorkloadScores {
  sync: number[][];
  jobs: number[][];
  batch: number[][];
  /** With a score cache configured: pairs of the first 20 sync requests, sent again, found in it. */
  repeatedCacheHits?: number;
}

export interface WorkloadOptions {
  /** Redis settings (REDIS_URL, REDIS_CLUSTER_NODES, ...) for the API and the worker. */
  env: Record<string, string>;
  /** Model directories served, all by one worker. */
  modelDirs: string[];
  /** The models' ids (their folder names), in the order of `modelDirs`. */
  modelIds: string[];
  root: string;
  syncRequests: number;
  asyncJobs: number;
  batchLines: number;
  /** Runs before the service stops, while its keys are still in Redis. */
  inspect?: (prefix: string) => Promise<void>;
}

const DOCS_PER_REQUEST = 6;

function documents(seed: number): string[] {
  return Array.from({ length: DOCS_PER_REQUEST }, (_, d) => `passage ${seed} ${d} ${'lorem ipsum '.repeat((seed + d) % 5)}`);
}

function scoresOf(results: { index: number; relevance_score: number }[]): number[] {
  return [...results].sort((a, b) => a.index - b.index).map((result) => result.relevance_score);
}

async function postJson(base: string, path: string, body: unknown, contentType = 'application/json'): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The service (API + one worker serving every model, in this process) on the given Redis, under a
 * prefix of its own, put through the three kinds of work: synchronous requests, async jobs with
 * signed webhooks (each verified), and an NDJSON batch; every request alternates the models.
 * Returns what each scored. Deletes its keys and stops everything it started, whatever happens.
 */
export async function runWorkload(options: WorkloadOptions): Promise<WorkloadScores> {
  const { modelDirs, modelIds, syncRequests, asyncJobs, batchLines } = options;
  const prefix = `rp-topology-${randomBytes(4).toString('hex')}`;
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const deliveries: { headers: IncomingHttpHeaders; body: string }[] = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      deliveries.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const config = loadConfig({
    ...options.env,
    QUEUE_PREFIX: prefix,
    RERANK_MODELS: modelDirs.join(','),
    LOG_LEVEL: 'silent',
    POOL_THREADS: '1',
    WEBHOOK_SECRET: secret,
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    BATCH_STORE_URL: pathToFileURL(join(options.root, `store-${prefix}`)).href,
  });
  const worker = await RerankWorker.start({ config, logger: { info() {}, warn() {}, error() {} } });
  const app = await buildApi({ config, logger: false });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const model = (i: number) => modelIds[i % modelIds.length];

    const sync: number[][] = [];
    for (let start = 0; start < syncRequests; start += 20) {
      const answers = await Promise.all(
        Array.from({ length: Math.min(20, syncRequests - start) }, (_, k) => postJson(base, '/v1/rerank', { model: model(start + k), query: `query ${start + k}`, documents: documents(start + k) })),
      );
      for (const answer of answers) {
        if (answer.status !== 200) throw new Error(`sync request answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        sync.push(scoresOf(answer.body.results));
      }
    }

    let repeatedCacheHits: number | undefined;
    if (config.scoreCacheUrl !== undefined || config.scoreCacheClusterNodes !== undefined) {
      repeatedCacheHits = 0;
      for (let i = 0; i < Math.min(20, syncRequests); i++) {
        const again = await postJson(base, '/v1/rerank', { model: model(i), query: `query ${i}`, documents: documents(i) });
        if (again.status !== 200 || JSON.stringify(scoresOf(again.body.results)) !== JSON.stringify(sync[i])) {
          throw new Error(`sync request ${i} sent again answered ${again.status} ${JSON.stringify(again.body)}, not its first scores`);
        }
        repeatedCacheHits += again.body.meta.cache.hits;
      }
    }

    const ids: string[] = [];
    for (let i = 0; i < asyncJobs; i++) {
      const answer = await postJson(base, '/v1/jobs', { model: model(i), query: `job ${i}`, documents: documents(1000 + i), callback_url: callbackUrl });
      if (answer.status !== 202) throw new Error(`job answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      ids.push(answer.body.id);
    }
    await until(`${asyncJobs} webhooks`, 60_000, async () => (deliveries.length >= asyncJobs ? true : undefined));
    const verifier = new Webhook(secret);
    const delivered = deliveries.map(({ headers, body }) => verifier.verify(body, headers as Record<string, string>) as { id: string; status: string });
    if (delivered.some((event) => event.status !== 'completed')) throw new Error(`a webhook reported ${JSON.stringify(delivered.find((event) => event.status !== 'completed'))}`);
    if (new Set(delivered.map((event) => event.id)).size !== asyncJobs || !ids.every((id) => delivered.some((event) => event.id === id))) {
      throw new Error(`webhooks named ${delivered.length} events, not each of the ${asyncJobs} jobs once`);
    }
    const jobs: number[][] = [];
    for (const id of ids) {
      const status = await (await fetch(`${base}/v1/jobs/${id}`)).json();
      jobs.push(scoresOf(status.result.results));
    }

    const lines = Array.from({ length: batchLines }, (_, i) => JSON.stringify({ id: `line-${i}`, model: model(i), query: `batch ${i}`, documents: documents(5000 + i).slice(0, 3) }));
    const accepted = await postJson(base, '/v1/batches', `${lines.join('\n')}\n`, 'application/x-ndjson');
    if (accepted.status !== 202) throw new Error(`batch answered ${accepted.status}: ${JSON.stringify(accepted.body)}`);
    const batchId = accepted.body.id as string;
    const finished = await until('the batch', 120_000, async () => {
      const status = await (await fetch(`${base}/v1/batches/${batchId}`)).json();
      return status.finished_at === undefined ? undefined : status;
    });
    if (finished.completed !== batchLines) throw new Error(`batch finished with ${JSON.stringify(finished)}`);
    const text = await (await fetch(`${base}/v1/batches/${batchId}/results`)).text();
    const batch = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line))
      .map((line) => scoresOf(line.results));

    await options.inspect?.(prefix);
    return { sync, jobs, batch, repeatedCacheHits };
  } finally {
    await app.close();
    await worker.close();
    receiver.close();
    const redis = openRedis(redisTarget(config));
    await deleteKeysWithPrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
  }
}
