import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RerankJobData } from '@rerank-pool/contracts';
import { RerankQueue, WEBHOOK_HEADERS, WebhookDispatcher, queueNameForModel, webhookQueueNameForModel } from '../src/index.js';
import { connection, deleteKeys, jobData, resultFor, uniquePrefix, until } from './helpers/redis.js';

const prefix = uniquePrefix();
const secret = `whsec_${randomBytes(32).toString('base64')}`;
const LOCK_MS = 1000;

// The doomed dispatcher runs the built library (npx tsc -b) in a process of its own, so that
// SIGKILL ends it as a crash would: no close(), no lock handed back, a request left half answered.
const DISPATCHER_PROCESS = `
const { WebhookDispatcher } = await import(process.env.QUEUE_MODULE);
const { redisOptionsFromUrl } = await import(process.env.CONNECTION_MODULE);
const dispatcher = new WebhookDispatcher({
  connection: redisOptionsFromUrl(process.env.REDIS_URL),
  models: ['org/tiny'],
  prefix: process.env.PREFIX,
  secret: process.env.SECRET,
  lockDurationMs: Number(process.env.LOCK_MS),
  allowedHosts: ['127.0.0.1'],
});
dispatcher.on('error', () => {});
dispatcher.start();
console.log('dispatching');
`;

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}
const deliveries: Delivery[] = [];
let server: Server;
let callbackUrl: string;
let doomed: ChildProcess | undefined;
let survivor: WebhookDispatcher | undefined;
const queue = new RerankQueue('org/tiny', { connection, prefix });
const webhooks = new Queue(webhookQueueNameForModel('org/tiny'), { connection, prefix });

async function startDispatcherProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', DISPATCHER_PROCESS], {
    env: {
      ...process.env,
      QUEUE_MODULE: new URL('../dist/index.js', import.meta.url).href,
      CONNECTION_MODULE: new URL('../../redis-connection/dist/index.js', import.meta.url).href,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      PREFIX: prefix,
      SECRET: secret,
      LOCK_MS: String(LOCK_MS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  await until(() => {
    if (child.exitCode !== null) throw new Error(`the dispatcher process exited:\n${output}`);
    return output.includes('dispatching');
  }, 30_000);
  return child;
}

beforeAll(async () => {
  // The first request is read and never answered: its dispatcher dies waiting for the answer.
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      deliveries.push({ headers: request.headers, body: Buffer.concat(chunks).toString() });
      if (deliveries.length > 1) response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  callbackUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  if (doomed && doomed.exitCode === null && doomed.signalCode === null) doomed.kill('SIGKILL');
  await Promise.all([queue.close(), webhooks.close(), survivor?.close()]);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await deleteKeys(prefix);
});

describe('when the dispatcher delivering a webhook dies mid-request', () => {
  it('should have another dispatcher deliver it again with the same webhook-id and body', async () => {
    doomed = await startDispatcherProcess();
    const worker = new Worker<RerankJobData>(queueNameForModel('org/tiny'), async (job) => resultFor(job.data), { connection, prefix });
    const { jobId } = await queue.enqueue(jobData({ callbackUrl }));
    await until(() => deliveries.length === 1);
    await worker.close();
    const exited = new Promise((resolve) => doomed!.once('exit', resolve));
    doomed.kill('SIGKILL');
    await exited;
    // Orphaned: still active, its lock no longer renewed by anyone.
    expect(await webhooks.getActiveCount()).toBe(1);

    survivor = new WebhookDispatcher({ connection, models: ['org/tiny'], prefix, secret, lockDurationMs: LOCK_MS, allowedHosts: ['127.0.0.1'] });
    survivor.on('error', (error) => {
      throw error;
    });
    survivor.start();
    await until(async () => (await webhooks.getCompletedCount()) === 1, 30_000);

    const [job] = await webhooks.getJobs(['completed']);
    // Run again because it stalled, not because an attempt failed and was retried.
    expect(job!.stalledCounter).toBe(1);
    expect(job!.attemptsStarted).toBe(2);
    expect(deliveries).toHaveLength(2);
    const [first, again] = deliveries as [Delivery, Delivery];
    expect(again.headers[WEBHOOK_HEADERS.id]).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(again.headers[WEBHOOK_HEADERS.id]).toBe(first.headers[WEBHOOK_HEADERS.id]);
    expect(again.body).toBe(first.body);
    expect(Number(again.headers[WEBHOOK_HEADERS.timestamp])).toBeGreaterThanOrEqual(Number(first.headers[WEBHOOK_HEADERS.timestamp]));
    const receiver = new Webhook(secret);
    for (const delivery of [first, again]) {
      const headers = Object.fromEntries(Object.values(WEBHOOK_HEADERS).map((name) => [name, String(delivery.headers[name])]));
      expect(receiver.verify(delivery.body, headers)).toMatchObject({ id: jobId, status: 'completed' });
    }
  });
});
