import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStatusBody, RerankJobData } from '@rerank-pool/contracts';
import { RerankQueue, WebhookDispatcher, queueNameForModel, verifyWebhookSignature } from '../src/index.js';
import { connection, deleteKeys, jobData, resultFor, uniquePrefix, until } from './helpers/redis.js';

const prefix = uniquePrefix();
const secret = 'test-webhook-secret';
const queue = new RerankQueue('org/tiny', { connection, prefix, webhookBackoffMs: 50 });
const dispatcher = new WebhookDispatcher({ connection, prefix, secret });

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}
const deliveries: Delivery[] = [];
let failuresLeft = 1;
let server: Server;
let baseUrl: string;

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

describe('when a job with a callback_url completes', () => {
  it('should POST its signed status, retrying after a 500 with the same bytes', async () => {
    const worker = new Worker<RerankJobData>(queueNameForModel('org/tiny'), async (job) => resultFor(job.data, [0.2, 0.9]), { connection, prefix });
    const data = jobData({ callbackUrl: `${baseUrl}/hook`, response: { topN: 1, returnDocuments: true } });
    const { jobId } = await queue.enqueue(data);
    await until(() => deliveries.some((delivery) => delivery.status === 204));
    await worker.close();

    expect(deliveries.map((delivery) => delivery.status)).toEqual([500, 204]);
    const [failed, delivered] = deliveries;
    expect(delivered.body).toBe(failed.body);
    expect(verifyWebhookSignature(delivered.body, delivered.headers['x-rerankpool-signature'] as string, secret)).toBe(true);
    expect(verifyWebhookSignature(delivered.body, delivered.headers['x-rerankpool-signature'] as string, 'wrong')).toBe(false);
    expect(Number(delivered.headers['x-rerankpool-timestamp'])).toBeGreaterThan(0);
    const body = JSON.parse(delivered.body) as JobStatusBody;
    expect(body).toMatchObject({ id: jobId, status: 'completed', progress: 1 });
    expect(body.result?.results).toEqual([{ index: 1, relevance_score: 0.9, document: { text: data.documents[1] } }]);
  });
});

describe('when a job with a callback_url is cancelled', () => {
  it('should POST the cancelled status', async () => {
    deliveries.length = 0;
    const { jobId } = await queue.enqueue(jobData({ callbackUrl: `${baseUrl}/hook` }));
    await queue.cancel(jobId, 'default');
    await until(() => deliveries.length === 1);
    expect(JSON.parse(deliveries[0].body)).toMatchObject({ id: jobId, status: 'cancelled' });
  });
});
