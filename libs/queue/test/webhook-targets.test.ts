import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RerankJobData } from '@rerank-pool/contracts';
import { CallbackTargetError, CallbackTargetPolicy, RerankQueue, WebhookDispatcher, queueNameForModel, webhookQueueNameForModel } from '../src/index.js';
import type { HostLookup, WebhookDispatcherOptions } from '../src/index.js';
import { connection, deleteKeys, jobData, resultFor, uniquePrefix, until } from './helpers/redis.js';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const ATTEMPTS = 2;

/** Paths of every request that reached the receiver on 127.0.0.1. */
const reached: string[] = [];
let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((request, response) => {
    reached.push(request.url ?? '');
    request.resume();
    request.on('end', () => {
      if (request.url === '/moved') response.writeHead(307, { location: `http://127.0.0.1:${port}/elsewhere` }).end();
      else response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  reached.length = 0;
});

interface Outcome {
  state: string;
  attemptsMade: number;
  /** The error of each failed attempt, as the dispatcher's 'delivery-failed' event gives it. */
  failures: Error[];
  /** 'delivered' and 'delivery-given-up' events (what the worker's webhook counter counts). */
  delivered: number;
  givenUp: number;
}

/**
 * One job with `callbackUrl` run to the end of its webhook (delivered, or failed after ATTEMPTS
 * tries), through a real queue, a real consumer and a dispatcher with `options`, under a prefix of
 * its own. The job is enqueued on the queue directly, as if the API's check had passed.
 */
async function runWebhook(callbackUrl: string, options: Partial<WebhookDispatcherOptions> = {}): Promise<Outcome> {
  const prefix = uniquePrefix();
  const queue = new RerankQueue('org/tiny', { connection, prefix, webhookAttempts: ATTEMPTS, webhookBackoffMs: 50 });
  const webhooks = new Queue(webhookQueueNameForModel('org/tiny'), { connection, prefix });
  const dispatcher = new WebhookDispatcher({ connection, models: ['org/tiny'], prefix, secret, ...options });
  const consumer = new Worker<RerankJobData>(queueNameForModel('org/tiny'), async (job) => resultFor(job.data), { connection, prefix });
  const failures: Error[] = [];
  let delivered = 0;
  let givenUp = 0;
  dispatcher.on('delivery-failed', (_jobId, _attemptsMade, error) => failures.push(error));
  dispatcher.on('delivered', () => delivered++);
  dispatcher.on('delivery-given-up', () => givenUp++);
  dispatcher.on('error', (error) => failures.push(error));
  dispatcher.start();
  try {
    await queue.enqueue(jobData({ callbackUrl }));
    await until(async () => (await webhooks.getCompletedCount()) + (await webhooks.getFailedCount()) === 1, 20_000);
    const [webhook] = await webhooks.getJobs(['completed', 'failed']);
    return { state: await webhook!.getState(), attemptsMade: webhook!.attemptsMade, failures, delivered, givenUp };
  } finally {
    await Promise.all([consumer.close(), dispatcher.close(), queue.close(), webhooks.close()]);
    await deleteKeys(prefix);
  }
}

describe('when a callback host resolves to a public address at submission and to loopback at delivery', () => {
  it('should refuse every connection at delivery and never reach the loopback receiver', async () => {
    const asked: string[] = [];
    // DNS rebinding: the attacker's name server answers the check with a public address, then
    // with the loopback address a receiver of ours really listens on.
    const rebinding: HostLookup = async (hostname) => {
      asked.push(hostname);
      const address = asked.length === 1 ? '93.184.215.14' : '127.0.0.1';
      return [{ address, family: 4 }];
    };
    const callbackUrl = `http://hooks.rebind.test:${port}/hook`;
    await expect(new CallbackTargetPolicy({ lookup: rebinding }).check(callbackUrl)).resolves.toBeInstanceOf(URL);

    const outcome = await runWebhook(callbackUrl, { lookup: rebinding });

    expect(outcome).toMatchObject({ state: 'failed', attemptsMade: ATTEMPTS, delivered: 0, givenUp: 1 });
    expect(outcome.failures).toHaveLength(ATTEMPTS);
    for (const failure of outcome.failures) {
      expect(failure).toBeInstanceOf(CallbackTargetError);
      expect(failure).toMatchObject({ code: 'forbidden_address', message: 'host hooks.rebind.test resolves to 127.0.0.1, a loopback address' });
    }
    expect(asked).toEqual(Array(1 + ATTEMPTS).fill('hooks.rebind.test'));
    expect(reached).toEqual([]);
  });

  it('should refuse it over https too (the TLS connection takes the same lookup)', async () => {
    let asked = 0;
    const rebinding: HostLookup = async () => [{ address: ++asked === 1 ? '93.184.215.14' : '127.0.0.1', family: 4 }];
    const callbackUrl = `https://hooks.rebind.test:${port}/hook`;
    await new CallbackTargetPolicy({ lookup: rebinding }).check(callbackUrl);
    const outcome = await runWebhook(callbackUrl, { lookup: rebinding });
    expect(outcome.state).toBe('failed');
    expect(outcome.failures.map((failure) => failure.message)).toEqual(Array(ATTEMPTS).fill('host hooks.rebind.test resolves to 127.0.0.1, a loopback address'));
    expect(reached).toEqual([]);
  });

  it('should refuse a host when any one of its addresses is inside, even with a public one first', async () => {
    const mixed: HostLookup = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '::ffff:127.0.0.1', family: 6 },
    ];
    const outcome = await runWebhook(`http://hooks.mixed.test:${port}/hook`, { lookup: mixed });
    expect(outcome.state).toBe('failed');
    expect(outcome.failures[0]?.message).toBe('host hooks.mixed.test resolves to ::ffff:127.0.0.1, the IPv4-mapped form of 127.0.0.1, a loopback address');
    expect(reached).toEqual([]);
  });
});

describe('when a job names a loopback receiver that the allow-list does not list', () => {
  it('should refuse the connection to the IP literal at delivery', async () => {
    const outcome = await runWebhook(`http://127.0.0.1:${port}/hook`, { allowedHosts: ['10.0.0.0/8'] });
    expect(outcome).toMatchObject({ state: 'failed', attemptsMade: ATTEMPTS });
    expect(outcome.failures.map((failure) => failure.message)).toEqual(Array(ATTEMPTS).fill('host 127.0.0.1 is a loopback address'));
    expect(reached).toEqual([]);
  });

  it('should refuse the name localhost at delivery', async () => {
    const outcome = await runWebhook(`http://localhost:${port}/hook`);
    expect(outcome.state).toBe('failed');
    expect(outcome.failures[0]).toMatchObject({ code: 'forbidden_name', message: 'host localhost is a loopback name' });
    expect(reached).toEqual([]);
  });
});

describe('when the allow-list names a loopback receiver', () => {
  it('should deliver to it by address, by range and by name', async () => {
    const ways: [string, string[]][] = [
      [`http://127.0.0.1:${port}/by-address`, ['127.0.0.1']],
      [`http://127.0.0.1:${port}/by-range`, ['127.0.0.0/8']],
      [`http://localhost:${port}/by-name`, ['localhost']],
    ];
    for (const [callbackUrl, allowedHosts] of ways) {
      const outcome = await runWebhook(callbackUrl, { allowedHosts });
      expect(outcome, callbackUrl).toMatchObject({ state: 'completed', attemptsMade: 1, failures: [], delivered: 1, givenUp: 0 });
    }
    expect(reached).toEqual(['/by-address', '/by-range', '/by-name']);
  });
});

describe('when the receiver answers with a redirect', () => {
  it('should not follow it and count each attempt as failed', async () => {
    const outcome = await runWebhook(`http://127.0.0.1:${port}/moved`, { allowedHosts: ['127.0.0.1'] });
    expect(outcome).toMatchObject({ state: 'failed', attemptsMade: ATTEMPTS });
    expect(outcome.failures.map((failure) => failure.message)).toEqual(
      Array(ATTEMPTS).fill(`http://127.0.0.1:${port}/moved answered 307 (redirects are not followed)`),
    );
    expect(reached).toEqual(Array(ATTEMPTS).fill('/moved'));
  });
});

describe('when the dispatcher is given an allow-list entry it cannot read', () => {
  it('should throw at construction, naming the entry', () => {
    const build = (allowedHosts: string[]) => () => new WebhookDispatcher({ connection, models: ['org/tiny'], secret, allowedHosts });
    expect(build(['127.0.0.1', '10.0.0.0/33'])).toThrow(new CallbackTargetError('invalid_allowed_host', '"10.0.0.0/33" (entry 2) is not a CIDR range such as 10.0.0.0/8 or fd00::/8'));
    expect(build(['127.1'])).toThrow('"127.1" (entry 1) is a short or numeric form of 127.0.0.1; write 127.0.0.1');
    expect(build(['hooks.internal:8080'])).toThrow('"hooks.internal:8080" (entry 1) is not a bare host name (no scheme, port, path or user)');
    expect(build(['*.internal'])).toThrow(CallbackTargetError);
  });
});
