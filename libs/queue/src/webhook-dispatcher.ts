import { EventEmitter } from 'node:events';
import { Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { bullConnection, openRedis } from '@rerank-pool/redis-connection';
import type { BullConnection, RedisClient, RedisTarget } from '@rerank-pool/redis-connection';
import { fetch } from 'undici';
import type { Agent } from 'undici';
import { Errors } from '@rerank-pool/contracts';
import { readJobStatus } from './job-status.js';
import { toJobStatusBody } from './job-status-body.js';
import { WEBHOOK_HEADERS, signWebhook, webhookSigningKey } from './webhook-signature.js';
import { webhookMessageId } from './webhook-job.js';
import { webhookQueueNameForModel } from './queue-name.js';
import type { WebhookJobData } from './webhook-job.js';
import { closeSharedConnection } from './close-queue.js';
import { callbackAgent } from './callback-agent.js';
import { CallbackTargetError } from './callback-target-error.js';
import { CallbackTargetPolicy, systemLookup } from './callback-target-policy.js';
import type { HostLookup } from './callback-target-policy.js';
import { workerLockOptions } from './worker-lock-options.js';
import { withoutUndefined } from './without-undefined.js';

export interface WebhookDispatcherOptions {
  connection: RedisTarget;
  /**
   * The models whose jobs' outcomes this dispatcher delivers: each has a webhook queue of its own
   * (see `webhookQueueNameForModel`). A worker process dispatches for the models it serves.
   */
  models: readonly string[];
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
  private readonly workers: Worker<WebhookJobData>[] = [];
  /** What every model's Worker opens its connections from (see `bullConnection`). */
  private bull?: BullConnection;
  private redis?: RedisClient;
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
    if (this.workers.length > 0 || this.closing) return;
    const { prefix, concurrency, lockDurationMs, models } = this.options;
    const bull = (this.bull = bullConnection(this.options.connection));
    for (const model of models) {
      const worker = new Worker<WebhookJobData>(webhookQueueNameForModel(model), (job) => this.deliver(job), {
        connection: bull.connection,
        prefix,
        concurrency,
        // As for rerank jobs: the deliveries of a dead dispatcher go to a live one within seconds.
        ...workerLockOptions(lockDurationMs),
      });
      worker.on('error', (error) => this.emit('error', error));
      worker.on('failed', (job, error) => {
        if (!job) return;
        this.emit('delivery-failed', job.data.jobId, job.attemptsMade, error);
        if (job.attemptsMade >= (job.opts.attempts ?? 1)) this.emit('delivery-given-up', job.data.jobId, job.attemptsMade, error);
      });
      worker.on('completed', (job) => this.emit('delivered', job.data.jobId, job.attemptsMade));
      this.workers.push(worker);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled(this.workers.map((worker) => worker.close()));
      await this.bull?.close();
      if (this.redis) await closeSharedConnection(this.redis, [...this.queues.values()]);
      await this.agent.close().catch(() => undefined);
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

  private client(): RedisClient {
    if (!this.redis) {
      this.redis = openRedis(this.options.connection);
      this.redis.on('error', (error) => this.emit('error', error));
    }
    return this.redis;
  }

  private queueFor(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.client(), prefix: this.options.prefix });
      queue.on('error', (error) => this.emit('error', error));
      this.queues.set(name, queue);
    }
    return queue;
  }
}
