// The run's webhook receiver: a node:http server on 127.0.0.1 that verifies each delivery per
// the Standard Webhooks spec (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the
// `standardwebhooks` package, and counts deliveries by webhook-id.
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** `whsec_` + base64 of 32 random bytes: the Standard Webhooks secret format. */
export function newWebhookSecret(randomBytes) {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The job's status body inside a delivery: the body itself, or its `data` (an event envelope). */
function jobStatusOf(payload) {
  if (payload && typeof payload === 'object' && payload.data && typeof payload.data === 'object' && typeof payload.data.id === 'string') return payload.data;
  return payload;
}

export class WebhookReceiver {
  constructor({ secret }) {
    this.webhook = new Webhook(secret);
    /** By webhook id: {jobId, deliveries, first, statuses, results[]}. */
    this.messages = new Map();
    this.deliveries = 0;
    this.badSignature = 0;
    this.malformed = 0;
    this.badExamples = [];
  }

  async start() {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    this.url = `http://127.0.0.1:${this.port}/hooks`;
    return this;
  }

  async stop() {
    if (!this.server) return;
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }

  handle(req, res) {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      const answer = (status) => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end();
      };
      if (req.method !== 'POST' || size > MAX_BODY_BYTES) return answer(400);
      this.deliveries++;
      const body = Buffer.concat(chunks).toString('utf8');
      const arrivedAt = Date.now();
      const key = req.headers['webhook-id'];
      if (typeof key !== 'string') return this.reject(res, 'no webhook-id header');
      let payload;
      try {
        payload = this.webhook.verify(body, {
          'webhook-id': key,
          'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
        });
      } catch (error) {
        return this.reject(res, `${key}: ${error.message}`);
      }
      const status = jobStatusOf(payload);
      if (!status || typeof status.id !== 'string') {
        this.malformed++;
        return answer(400);
      }
      let message = this.messages.get(key);
      if (!message) {
        message = { jobId: status.id, deliveries: 0, first: arrivedAt, statuses: [], results: [] };
        this.messages.set(key, message);
      }
      message.deliveries++;
      message.statuses.push(status.status);
      if (status.status === 'completed') message.results.push(status.result?.results);
      answer(200);
    });
  }

  reject(res, reason) {
    this.badSignature++;
    if (this.badExamples.length < 3) this.badExamples.push(reason);
    res.writeHead(401, { 'content-type': 'text/plain' });
    res.end();
  }

  /** Messages grouped by job id: one job should have exactly one message (event) id. */
  byJob() {
    const jobs = new Map();
    for (const [key, message] of this.messages) {
      let entry = jobs.get(message.jobId);
      if (!entry) jobs.set(message.jobId, (entry = { ids: [], deliveries: 0, first: message.first, statuses: [], results: [] }));
      entry.ids.push(key);
      entry.deliveries += message.deliveries;
      entry.first = Math.min(entry.first, message.first);
      entry.statuses.push(...message.statuses);
      entry.results.push(...message.results);
    }
    return jobs;
  }
}
