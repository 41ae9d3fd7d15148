import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'bullmq';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStatusBody, RerankJobData } from '@rerank-pool/contracts';
import { RerankQueue, WEBHOOK_HEADERS, WebhookDispatcher, queueNameForModel, signWebhook } from '../src/index.js';
import { connection, deleteKeys, jobData, resultFor, uniquePrefix, until } from './helpers/redis.js';

const prefix = uniquePrefix();
const secret = `whsec_${randomBytes(32).toString('base64')}`;
// A second apart at least, so the retry's timestamp (whole seconds) must differ from the first.
const queue = new RerankQueue('org/tiny', { connection, prefix, webhookBackoffMs: 1000 });
// The receiver listens on loopback, which only an explicit allow-list entry lets deliveries reach.
const dispatcher = new WebhookDispatcher({ connection, models: ['org/tiny'], prefix, secret, allowedHosts: ['127.0.0.1'] });

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}
const deliveries: Delivery[] = [];
let failuresLeft = 1;
let server: Server;
let baseUrl: string;

/** The three Standard Webhooks headers of a delivery, as a receiver hands them to the verifier. */
function signed(delivery: Delivery): Record<string, string> {
  return Object.fromEntries(Object.values(WEBHOOK_HEADERS).map((name) => [name, String(delivery.headers[name])]));
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = failuresLeft > 0 ? 500 : 204;
      failuresLeft -= 1;
      deliveries.push({ headers: request.headers, body: Buffer.concat(chunks).toString(), status });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dispatcher.on('error', (error) => {
    throw error;
  });
  dispatcher.start();
});

afterAll(async () => {
  await Promise.all([queue.close(), dispatcher.close()]);
  await new Promise((resolve) => server.close(resolve));
  await deleteKeys(prefix);
});

describe('when a job with a callback_url completes and the receiver first answers 500', () => {
  let data: RerankJobData;
  let jobId: string;
  let failed: Delivery;
  let delivered: Delivery;

  beforeAll(async () => {
    const worker = new Worker<RerankJobData>(queueNameForModel('org/tiny'), async (job) => resultFor(job.data, [0.2, 0.9]), { connection, prefix });
    data = jobData({ callbackUrl: `${baseUrl}/hook`, response: { topN: 1, returnDocuments: true } });
    ({ jobId } = await queue.enqueue(data));
    await until(() => deliveries.some((delivery) => delivery.status === 204));
    await worker.close();
    expect(deliveries.map((delivery) => delivery.status)).toEqual([500, 204]);
    [failed, delivered] = deliveries as [Delivery, Delivery];
  });

  it('should sign every attempt so that the standardwebhooks verifier accepts it', () => {
    const receiver = new Webhook(secret);
    for (const delivery of [failed, delivered]) {
      expect(receiver.verify(delivery.body, signed(delivery))).toEqual(JSON.parse(delivery.body));
      expect(delivery.headers[WEBHOOK_HEADERS.signature]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    }
    expect(delivered.headers['x-rerankpool-signature']).toBeUndefined();
    expect(delivered.headers['x-rerankpool-timestamp']).toBeUndefined();
  });

  it('should retry with the same webhook-id and body and a fresh timestamp in unix seconds', () => {
    expect(delivered.headers[WEBHOOK_HEADERS.id]).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(delivered.headers[WEBHOOK_HEADERS.id]).toBe(failed.headers[WEBHOOK_HEADERS.id]);
    expect(delivered.body).toBe(failed.body);
    const [first, retry] = [failed, delivered].map((delivery) => Number(delivery.headers[WEBHOOK_HEADERS.timestamp]));
    expect(Number.isInteger(first)).toBe(true);
    expect(Math.abs(Date.now() / 1000 - first!)).toBeLessThan(30);
    expect(retry).toBeGreaterThan(first!);
    expect(delivered.headers[WEBHOOK_HEADERS.signature]).not.toBe(failed.headers[WEBHOOK_HEADERS.signature]);
  });

  it('should fail verification when the timestamp, the body, the id or the secret is not the signed one', () => {
    const receiver = new Webhook(secret);
    const headers = signed(delivered);
    const timestamp = Number(headers[WEBHOOK_HEADERS.timestamp]);
    const altered = [
      { body: delivered.body, headers: { ...headers, [WEBHOOK_HEADERS.timestamp]: String(timestamp - 1) } },
      { body: delivered.body, headers: { ...headers, [WEBHOOK_HEADERS.timestamp]: String(timestamp + 1) } },
      { body: delivered.body.replace('"completed"', '"failed"'), headers },
      { body: `${delivered.body} `, headers },
      { body: delivered.body, headers: { ...headers, [WEBHOOK_HEADERS.id]: `${headers[WEBHOOK_HEADERS.id]}x` } },
    ];
    for (const { body, headers: sent } of altered) {
      expect(body === delivered.body && sent === headers).toBe(false);
      expect(() => receiver.verify(body, sent)).toThrow(WebhookVerificationError);
    }
    expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(delivered.body, headers)).toThrow(WebhookVerificationError);
  });

  it('should send the job status as the body', () => {
    const body = JSON.parse(delivered.body) as JobStatusBody;
    expect(body).toMatchObject({ id: jobId, status: 'completed', progress: 1 });
    expect(body.result?.results).toEqual([{ index: 1, relevance_score: 0.9, document: { text: data.documents[1] } }]);
  });
});

describe('when a job with a callback_url is cancelled', () => {
  it('should POST the cancelled status under a webhook-id of its own', async () => {
    const earlier = deliveries[0]!.headers[WEBHOOK_HEADERS.id];
    deliveries.length = 0;
    const { jobId } = await queue.enqueue(jobData({ callbackUrl: `${baseUrl}/hook` }));
    await queue.cancel(jobId, 'default');
    await until(() => deliveries.length === 1);
    expect(JSON.parse(deliveries[0]!.body)).toMatchObject({ id: jobId, status: 'cancelled' });
    expect(new Webhook(secret).verify(deliveries[0]!.body, signed(deliveries[0]!))).toMatchObject({ id: jobId });
    expect(deliveries[0]!.headers[WEBHOOK_HEADERS.id]).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(deliveries[0]!.headers[WEBHOOK_HEADERS.id]).not.toBe(earlier);
  });
});

describe('when signing', () => {
  it('should give the signature the reference implementation computes', () => {
    const body = '{"id":"j1","status":"completed"}';
    const timestamp = 1_700_000_000;
    expect(signWebhook({ id: 'msg_1', timestamp, body, secret })).toBe(new Webhook(secret).sign('msg_1', new Date(timestamp * 1000), body));
  });

  it('should refuse a secret that is not whsec_ and base64 of 24 to 64 bytes, and an id holding the separator', () => {
    const sign = (overrides: Partial<Parameters<typeof signWebhook>[0]>) => () => signWebhook({ id: 'msg_1', timestamp: 1, body: '{}', secret, ...overrides });
    for (const bad of ['test-webhook-secret', `whsec_${randomBytes(16).toString('base64')}`, `whsec_${randomBytes(32).toString('base64url')}!`]) {
      expect(sign({ secret: bad })).toThrow('secret must be whsec_ followed by the base64 of 24 to 64 bytes');
      expect(() => new WebhookDispatcher({ connection, models: ['org/tiny'], prefix, secret: bad })).toThrow(TypeError);
    }
    expect(sign({ id: 'msg.1' })).toThrow('id must be non-empty and contain no "."');
    expect(sign({ timestamp: 1.5 })).toThrow('timestamp must be whole unix seconds');
  });
});
