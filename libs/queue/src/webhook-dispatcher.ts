import { EventEmitter } from 'node:events';
import { Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { fetch } from 'undici';
import type { Agent } from 'undici';
import { Errors } from '@rerank-pool/contracts';
import { readJobStatus } from './job-status.js';
import { toJobStatusBody } from './job-status-body.js';
import { WEBHOOK_HEADERS, signWebhook, webhookSigningKey } from './webhook-signature.js';
import { WEBHOOK_QUEUE_NAME, webhookMessageId } from './webhook-job.js';
import type { WebhookJobData } from './webhook-job.js';
import { closeQueue } from './close-queue.js';
import { callbackAgent } from './callback-agent.js';
import { CallbackTargetError } from './callback-target-error.js';
import { CallbackTargetPolicy, systemLookup } from './callback-target-policy.js';
import type { HostLookup } from './callback-target-policy.js';
import { workerLockOptions } from './worker-lock-options.js';
import { withoutUndefined } from './without-undefined.js';

export interface WebhookDispatcherOptions {
  connection: RedisOptions;
  /** Signing secret (WEBHOOK_SECRET): `whsec_` and the base64 of 24 to 64 random bytes. */
  secret: string;
  /** BullMQ key prefix, the same as the rerank queues'. Default `rerank-pool`. */
  prefix?: string;
  /** Deliveries in flight at once. Default 8. */
  concurrency?: number;
  /** A receiver slower than this counts as a failed attempt. Default 10000 ms. */
  requestTimeoutMs?: number;
  /**
   * How long a claim on a delivery lasts unrenewed (WORKER_LOCK_MS, see `workerLockOptions`): the
   * deliveries of a dispatcher that died are run again, with the same webhook-id, within about
   * 4/3 of this. Default 6000 ms.
   */
  lockDurationMs?: number;
  /**
   * Receivers inside the operator's network that deliveries may reach (WEBHOOK_ALLOWED_HOSTS): host
   * names, IP addresses, CIDR ranges. Every other loopback, private, link-local, metadata... address
   * is refused at connect time (see `CallbackTargetPolicy`). Default none.
   */
  allowedHosts?: readonly string[];
  /** Resolves callback host names to all their addresses. Default the system resolver (`dns.lookup`). */
  lookup?: HostLookup;
}

const DEFAULTS = { prefix: 'rerank-pool', concurrency: 8, requestTimeoutMs: 10_000, lockDurationMs: 6000, allowedHosts: [], lookup: systemLookup };

export interface WebhookDispatcherEvents {
  /** A background error (e.g. Redis connection); as with any EventEmitter, listen for it. */
  error: [error: Error];
  /** A delivery attempt failed (non-2xx, timeout, unreachable); BullMQ retries it with backoff. */
  'delivery-failed': [jobId: string, attemptsMade: number, error: Error];
  /** A receiver answered 2xx. */
  delivered: [jobId: string, attemptsMade: number];
  /** The failed attempt was the last one: this outcome is never delivered (follows its `delivery-failed`). */
  'delivery-given-up': [jobId: string, attemptsMade: number, error: Error];
}

/**
 * Delivers job outcomes to `callback_url`s. Enqueueing happens in `RerankQueue` (a webhook job is
 * the flow parent of its rerank job); this class only runs the deliveries, in whichever process
 * calls `start()`. Attempts and backoff are the webhook job's options; a non-2xx answer (a 3xx
 * too: redirects are not followed), a timeout or a refused address is a failed attempt.
 */
export class WebhookDispatcher extends EventEmitter<WebhookDispatcherEvents> {
  private readonly options: Required<WebhookDispatcherOptions>;
  private readonly queues = new Map<string, Queue>();
  private readonly agent: Agent;
  private worker?: Worker<WebhookJobData>;
  private redis?: Redis;
  private closing?: Promise<void>;

  constructor(options: WebhookDispatcherOptions) {
    super();
    this.options = { ...DEFAULTS, ...withoutUndefined(options) } as Required<WebhookDispatcherOptions>;
    // A bad secret fails here, at start-up, rather than at every delivery.
    webhookSigningKey(this.options.secret);
    if (!Number.isInteger(this.options.concurrency) || this.options.concurrency < 1) {
      throw new TypeError(`concurrency must be a positive integer, got ${this.options.concurrency}`);
    }
    if (!(this.options.requestTimeoutMs > 0)) throw new TypeError(`requestTimeoutMs must be positive, got ${this.options.requestTimeoutMs}`);
    if (!Number.isInteger(this.options.lockDurationMs) || this.options.lockDurationMs < 1) {
      throw new TypeError(`lockDurationMs must be a positive integer, got ${this.options.lockDurationMs}`);
    }
    const { allowedHosts, lookup } = this.options;
    this.agent = callbackAgent(new CallbackTargetPolicy({ allowedHosts, lookup }));
  }

  start(): void {
    if (this.worker || this.closing) return;
    const { connection, prefix, concurrency, lockDurationMs } = this.options;
    this.worker = new Worker<WebhookJobData>(WEBHOOK_QUEUE_NAME, (job) => this.deliver(job), {
      connection,
      prefix,
      concurrency,
      // As for rerank jobs: the deliveries of a dead dispatcher go to a live one within seconds.
      ...workerLockOptions(lockDurationMs),
    });
    this.worker.on('error', (error) => this.emit('error', error));
    this.worker.on('failed', (job, error) => {
      if (!job) return;
      this.emit('delivery-failed', job.data.jobId, job.attemptsMade, error);
      if (job.attemptsMade >= (job.opts.attempts ?? 1)) this.emit('delivery-given-up', job.data.jobId, job.attemptsMade, error);
    });
    this.worker.on('completed', (job) => this.emit('delivered', job.data.jobId, job.attemptsMade));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.worker?.close();
      await Promise.allSettled([...this.queues.values()].map((queue) => closeQueue(queue)));
      await this.agent.close().catch(() => undefined);
      await this.redis?.quit().catch(() => this.redis?.disconnect());
    })();
    return this.closing;
  }

  private async deliver(job: Job<WebhookJobData>): Promise<void> {
    const body = job.data.body ?? (await this.firstBody(job));
    const id = webhookMessageId(job.id!, job.timestamp);
    // The time of this attempt, not of the event: receivers reject old timestamps to stop
    // replays, so a retry hours later must still pass.
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await fetch(job.data.callbackUrl, {
      dispatcher: this.agent,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'rerank-pool-webhooks',
        [WEBHOOK_HEADERS.id]: id,
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
        [WEBHOOK_HEADERS.signature]: signWebhook({ id, timestamp, body, secret: this.options.secret }),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.options.requestTimeoutMs),
    }).catch((error: unknown) => {
      // fetch wraps connect failures in 'fetch failed'; a refused address should say why.
      throw error instanceof Error && error.cause instanceof CallbackTargetError ? error.cause : error;
    });
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) {
      const redirect = response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : '';
      throw new Error(`${job.data.callbackUrl} answered ${response.status}${redirect}`);
    }
  }

  private async firstBody(job: Job<WebhookJobData>): Promise<string> {
    const { jobId, queueName } = job.data;
    const status = await readJobStatus(this.queueFor(queueName), this.client(), this.options.prefix, jobId);
    if (!status) throw Errors.jobNotFound(jobId);
    const body = JSON.stringify(toJobStatusBody(status));
    await job.updateData({ ...job.data, body });
    return body;
  }

  private client(): Redis {
    if (!this.redis) {
      this.redis = new Redis(this.options.connection);
      this.redis.on('error', (error) => this.emit('error', error));
    }
    return this.redis;
  }

  private queueFor(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.options.connection, prefix: this.options.prefix });
      queue.on('error', (error) => this.emit('error', error));
      this.queues.set(name, queue);
    }
    return queue;
  }
}
