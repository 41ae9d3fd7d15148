import { once } from 'node:events';
import { Redis } from 'ioredis';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { queueNameForModel } from '@rerank-pool/queue';
import type { ServiceProcess } from './service-processes.js';

/**
 * Helpers for the fault-bound tests (worker crash, Redis outage, shutdown): clocks around HTTP
 * calls and signals, and a look at BullMQ's active list in a private Redis.
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One request of its own (per seed) with documents of graded lengths: document i has about
 * `5 + 6k` words (k = (i + seed) mod documents), the longest cut at the model's 512 tokens. Twenty
 * of 40-80 documents keep a worker busy for seconds. They do not all finish together: the batcher
 * serves the oldest job's pairs first, so the first finishes after a fraction of the whole.
 */
export function gradedRequest(seed: number, documents: number): { query: string; documents: string[] } {
  const rng = createRng(1000 + seed);
  return {
    query: `request ${seed}: ${syntheticText(rng, 6)}`,
    documents: Array.from({ length: documents }, (_, i) => syntheticText(rng, 5 + ((i + seed) % documents) * 6)),
  };
}

export interface TimedAnswer {
  /** 0 when no answer came (connection refused or reset, or `timeoutMs` passed). */
  status: number;
  headers: Headers;
  body: any;
  /** From the call to the whole body read. */
  ms: number;
  error?: string;
}

/** A request to the API on 127.0.0.1:`port`, timed, that never throws and never waits past `timeoutMs`. */
export async function timedRequest(port: number, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 60_000): Promise<TimedAnswer> {
  const started = performance.now();
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: kept as text for the failure message.
    }
    return { status: response.status, headers: response.headers, body: parsed, ms: performance.now() - started };
  } catch (error) {
    return { status: 0, headers: new Headers(), body: undefined, ms: performance.now() - started, error: String((error as Error).cause ?? error) };
  }
}

/** Resolves with the elapsed ms once `check` holds; throws `what` after `timeoutMs`. */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string, intervalMs = 100): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

export interface ActiveJob {
  id: string;
  /** BullMQ's `pb` (processedBy): the name of the worker that took the job, `host-pid-random` here. */
  processedBy: string;
}

/** The jobs in a model queue's active list (BullMQ keys under `prefix`), read with a client of its own. */
export async function activeJobs(redisPort: number, modelId: string, prefix = 'rerank-pool'): Promise<ActiveJob[]> {
  const client = new Redis({ port: redisPort, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const base = `${prefix}:${queueNameForModel(modelId)}`;
    const ids = await client.lrange(`${base}:active`, 0, -1);
    return await Promise.all(ids.map(async (id) => ({ id, processedBy: (await client.hget(`${base}:${id}`, 'pb')) ?? '' })));
  } finally {
    client.disconnect();
  }
}

/** Milliseconds left on each job's lock (BullMQ's PTTL of `<job>:lock`; -2 once it is gone). */
export async function lockTtlsMs(redisPort: number, modelId: string, jobIds: readonly string[], prefix = 'rerank-pool'): Promise<number[]> {
  const client = new Redis({ port: redisPort, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await Promise.all(jobIds.map((jobId) => client.pttl(`${prefix}:${queueNameForModel(modelId)}:${jobId}:lock`)));
  } finally {
    client.disconnect();
  }
}

/** How many jobs of a model queue wait (plain or prioritized), are active, completed or failed. */
export async function queueCounts(
  redisPort: number,
  modelId: string,
  prefix = 'rerank-pool',
): Promise<{ waiting: number; active: number; completed: number; failed: number }> {
  const client = new Redis({ port: redisPort, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const base = `${prefix}:${queueNameForModel(modelId)}`;
    const [wait, prioritized, active, completed, failed] = await Promise.all([
      client.llen(`${base}:wait`),
      client.zcard(`${base}:prioritized`),
      client.llen(`${base}:active`),
      client.zcard(`${base}:completed`),
      client.zcard(`${base}:failed`),
    ]);
    return { waiting: wait + prioritized, active, completed, failed };
  } finally {
    client.disconnect();
  }
}

/** Whether the worker name `processedBy` (`host-pid-random`) is that of the process `pid`. */
export function takenBy(processedBy: string, pid: number | undefined): boolean {
  return pid !== undefined && processedBy.includes(`-${pid}-`);
}

export interface TimedExit {
  /** From sending the signal to the child's 'exit' event. */
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the process outlived `capMs` and was killed with SIGKILL (the bound was missed). */
  forced: boolean;
}

/**
 * Sends `signal` (SIGTERM) to the process and times its exit. A process still running after
 * `capMs` is killed with SIGKILL, so a test that misses its bound never leaves it behind.
 */
export async function timeExit(proc: ServiceProcess, capMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<TimedExit> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the process had already exited (${child.exitCode ?? child.signalCode})\n${proc.output()}`);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const started = performance.now();
  child.kill(signal);
  let forced = false;
  const timer = setTimeout(() => {
    forced = true;
    child.kill('SIGKILL');
  }, capMs);
  const [code, exitSignal] = await exited;
  const ms = performance.now() - started;
  clearTimeout(timer);
  return { ms, code, signal: exitSignal, forced };
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
