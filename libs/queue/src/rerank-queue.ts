import { randomUUID } from 'node:crypto';
import { FlowProducer, Queue } from 'bullmq';
import type { JobsOptions } from 'bullmq';
import { inOneWrite } from '@rerank-pool/redis-connection';
import type { RedisClient } from '@rerank-pool/redis-connection';
import { Errors } from '@rerank-pool/contracts';
import type { RerankJobData, RerankJobResult } from '@rerank-pool/contracts';
import { IdempotencySecret, idempotentJobId } from './idempotency.js';
import { readJobOwner, rerankJobName } from './job-owner.js';
import { readJobStatus } from './job-status.js';
import type { RerankJobStatus } from './job-status.js';
import { lineQueueNameForModel, queueNameForModel, webhookQueueNameForModel } from './queue-name.js';
import { ResultWaiter } from './result-waiter.js';
import { BATCH_LINE_PRIORITY, PRIORITY, fillRerankQueueOptions } from './rerank-queue-options.js';
import type { FilledRerankQueueOptions, RerankQueueOptions } from './rerank-queue-options.js';
import { keys } from './keys.js';
import { requestCancel } from './cancel-requests.js';
import { TenantQueuedJobs } from './tenant-queued-jobs.js';
import type { QueuedJobsReservation } from './tenant-queued-jobs.js';
import { JobAdmission } from './job-admission.js';
import type { AdmittedJob } from './job-admission.js';
import { readOldestPending } from './oldest-pending.js';
import { readPendingPairs, reconcilePendingPairs, takePendingPairs } from './pending-pairs.js';
import { deleteTombstone, writeTombstone } from './tombstone.js';
import type { WebhookJobData } from './webhook-job.js';
import { closeSharedConnection } from './close-queue.js';
import { redisUnavailable } from './redis-unavailable.js';
import { openConfirmedWrites } from './replication-barrier.js';
import type { ReplicationBarrier } from './replication-barrier.js';
import { retryingJobOptions } from './retrying-job-options.js';
import { whenReady } from './when-ready.js';
import { beforeTimeout } from './within.js';

/** A request arriving while the connection is being made waits this long for it. */
const CONNECT_WAIT_MS = 2000;

/** Seconds a tenant over its cap is told to wait: its oldest jobs start within that at normal load. */
const TENANT_RETRY_AFTER_SECONDS = 1;

/**
 * How long a refused job's id is held if deleting the placeholder fails (see `admitAndAdd`): the
 * add sent behind its admission runs within the same round trip, far sooner.
 */
const HOLD_REFUSED_ID_MS = 10_000;

export interface EnqueueOptions {
  /** Same tenant + key -> same job, computed once (within the retention period). */
  idempotencyKey?: string;
  /**
   * Return only once `waitReplicas` replicas hold the new job (see `ReplicationBarrier`): for
   * jobs acknowledged to a client that will not wait for them (202). A synchronous request needs
   * none: its client learns of a lost job from the wait itself.
   */
  confirmReplicated?: boolean;
}

export interface QueueJobCounts {
  states: { waiting: number; prioritized: number; active: number; delayed: number };
  /** Waiting or prioritized jobs per priority class (`interactive`, `batch`, `batch_line`). */
  pendingByPriority: Record<string, number>;
  /** (query, document) pairs of the jobs not yet started, per priority class (see pending-pairs.ts). */
  pendingPairsByPriority: Record<string, number>;
  /** Seconds since the next job of each priority class was enqueued; a class with none waiting is absent (see oldest-pending.ts). */
  oldestPendingAgeSecondsByPriority: Record<string, number>;
}

/** The priority classes queue depth is reported by: the job priorities of the model queue, then offline batch lines in theirs. */
const JOB_CLASSES: Record<string, number> = { ...PRIORITY };
const LINE_CLASSES: Record<string, number> = { batch_line: BATCH_LINE_PRIORITY };

export interface EnqueueResult {
  jobId: string;
  /** False when the idempotency key named an existing (or cancelled) job. */
  created: boolean;
}

interface DepthReading {
  depth: Promise<number>;
  readAt: number;
  addedSince: number;
}

async function depthOf(reading: DepthReading): Promise<number> {
  return (await reading.depth) + reading.addedSince;
}

/** The rerank jobs of one model: enqueue, read, cancel, wait. Knows nothing of HTTP. */
export class RerankQueue {
  readonly model: string;
  readonly name: string;
  private readonly options: FilledRerankQueueOptions;
  private readonly queue: Queue;
  /** The model's batch line queue: only read here, for its counts (libs/batches adds to it). */
  private readonly lines: Queue;
  private readonly waiter: ResultWaiter;
  /**
   * The one connection commands run on: the queue's, the flow producer's and this library's own
   * (tombstones). Fail-fast options, so a request during an outage is answered, not held.
   */
  private readonly redis: RedisClient;
  private flows?: FlowProducer;
  private readonly idempotencySecret: IdempotencySecret;
  private readonly tenantQueued: TenantQueuedJobs;
  private readonly admission: JobAdmission;
  private readonly replication?: ReplicationBarrier;
  private closing?: Promise<void>;
  private admissionReading?: DepthReading;
  /** The reading under way that will replace `admissionReading`. */
  private nextAdmissionReading?: DepthReading;

  constructor(model: string, options: RerankQueueOptions) {
    this.model = model;
    this.name = queueNameForModel(model);
    this.options = fillRerankQueueOptions(options);
    // One connection for the adds and the WAIT that confirms them (REDIS_WAIT_REPLICAS).
    ({ redis: this.redis, replication: this.replication } = openConfirmedWrites(this.options.connection, { replicas: this.options.waitReplicas, timeoutMs: this.options.waitTimeoutMs }));
    // ioredis reconnects by itself; callers see an outage as rejected commands.
    this.redis.on('error', () => {});
    this.queue = new Queue(this.name, { connection: this.redis, prefix: this.options.prefix });
    this.queue.on('error', () => {});
    this.lines = new Queue(lineQueueNameForModel(model), { connection: this.redis, prefix: this.options.prefix });
    this.lines.on('error', () => {});
    this.idempotencySecret = new IdempotencySecret(this.redis, this.options.prefix);
    const { connection, prefix, outageGraceMs } = this.options;
    this.waiter = new ResultWaiter(this.queue, this.redis, { connection, prefix, outageGraceMs });
    this.tenantQueued = new TenantQueuedJobs(this.redis, { queueQualifiedName: this.queue.qualifiedName, ttlSeconds: this.options.retentionSeconds });
    this.admission = new JobAdmission(this.redis, this.tenantQueued, this.queue.qualifiedName);
  }

  /** Whether every connection this queue opened is up, waiting up to `waitMs` for one being made (readiness). */
  async ready(waitMs: number): Promise<boolean> {
    return (await whenReady(this.redis, waitMs)) && this.waiter.connected;
  }

  /** The BullMQ queue itself, for tools that speak BullMQ (the admin dashboard); closed with this. */
  get bullQueue(): Queue {
    return this.queue;
  }

  async enqueue(data: RerankJobData, { idempotencyKey, confirmReplicated = false }: EnqueueOptions = {}): Promise<EnqueueResult> {
    await this.checkConnected();
    const jobId = idempotencyKey === undefined ? randomUUID() : idempotentJobId(await this.idempotencySecret.get(), data.tenant, idempotencyKey);
    if (idempotencyKey !== undefined && (await this.exists(jobId))) return { jobId, created: false };
    // Two concurrent first uses of one key both get here; BullMQ's add ignores an existing id
    // atomically, so there is still one job and one computation (both callers report created).
    const opts = this.jobOptions(jobId, data);
    const job: AdmittedJob = { jobId, jobKey: this.queue.toKey(jobId), tenant: data.tenant, pairs: data.documents.length, priorityClass: data.priority };
    const cap = this.options.tenantMaxQueuedJobs;
    if (idempotencyKey === undefined && data.callbackUrl === undefined) {
      await this.admitAndAdd(job, data, opts);
    } else {
      // Admitted (a tenant place, the pending pairs counted) before the add, so a worker that
      // picks the job up at once always finds its entry.
      this.checkAdmitted(data.tenant, cap, await this.admission.admit(job, { cap }));
      try {
        if (data.callbackUrl === undefined) {
          await this.queue.add(rerankJobName(data.tenant), data, opts);
        } else {
          await this.addWithWebhook(data, data.callbackUrl, opts);
        }
      } catch (error) {
        await this.undoAdmission(job);
        throw error;
      }
    }
    for (const reading of [this.admissionReading, this.nextAdmissionReading]) if (reading) reading.addedSince++;
    if (confirmReplicated) await this.replication?.confirm({ kind: 'job', id: jobId });
    return { jobId, created: true };
  }

  /**
   * Enqueues one job (through `submit`, which calls `enqueue`, given the channel to name as the
   * job's `replyTo`) once the result listener is live, then waits for its result; all of it within
   * `timeoutMs` of `startedAt` (the request's arrival).
   * A job created after that cannot
   * finish unseen, so it is not read back from Redis; an existing one (idempotency key) is.
   *
   * `signal` is the waiting client: once it aborts nobody wants the result, so nothing more is
   * enqueued, and a job already enqueued is stopped (`abandon`); this rejects with `cancelled`.
   */
  async submitAndWait(
    submit: (replyTo: string) => Promise<EnqueueResult>,
    documentCount: number,
    timeoutMs: number,
    startedAt = Date.now(),
    signal?: AbortSignal,
  ): Promise<EnqueueResult & { result: RerankJobResult }> {
    const deadline = startedAt + timeoutMs;
    const submitUnlessGone = async () => {
      await this.waiter.listen();
      if (signal?.aborted) throw Errors.clientGone();
      return submit(this.waiter.replyTo);
    };
    // A job added after the timeout is failed unrun by its worker: its deadline has passed.
    const submitted = await beforeTimeout(submitUnlessGone(), Math.max(1, deadline - Date.now()), () =>
      Errors.requestTimeout(timeoutMs, 'being enqueued'),
    );
    try {
      // Registered in the same run of microtasks that saw the add succeed: the completion event
      // arrives on another connection, so no I/O callback can deliver it before this wait exists.
      const result = await this.waiter.wait(submitted.jobId, documentCount, Math.max(1, deadline - Date.now()), {
        readBack: !submitted.created,
        reportedTimeoutMs: timeoutMs,
        signal,
      });
      return { ...submitted, result };
    } catch (error) {
      if (!signal?.aborted || !submitted.created) throw error;
      // Best effort: with Redis unreachable the job runs to its end unwatched, and expires.
      await this.abandon(submitted.jobId).catch(() => undefined);
      throw Errors.clientGone(submitted.jobId);
    }
  }

  /**
   * Jobs not yet started (waiting, prioritized, delayed for retry): the 429 admission check.
   * Lines of offline batches are not in this queue: a batch queues its lines by the hundred
   * thousand by design, and they never take the slots online jobs run in.
   */
  async depth(): Promise<number> {
    await this.checkConnected();
    // One script: what `jobCounts` adds (pending pairs and their reconcile, a second round trip)
    // is for scrapes, not for the request waiting on this.
    const states = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed');
    return (states.waiting ?? 0) + (states.prioritized ?? 0) + (states.delayed ?? 0);
  }

  /**
   * `depth()` as the 429 check reads it: one reading reused for `admissionReadTtlMs`, plus the
   * jobs this instance added since. Other replicas' adds show up at the next reading. A request
   * that finds the reading past its time but less than twice as old starts the next reading and
   * is checked against the current one, so a steady stream of requests never waits the round
   * trip of a reading (0.25-0.3 ms, a quarter of idle 1x20 requests at the bench's pace).
   */
  async admissionDepth(): Promise<number> {
    const now = Date.now();
    const ttl = this.options.admissionReadTtlMs;
    const current = this.admissionReading;
    const age = current === undefined ? Infinity : now - current.readAt;
    if (age < ttl) return depthOf(current!);
    const next = (this.nextAdmissionReading ??= this.readAdmissionDepth(now));
    return depthOf(age < 2 * ttl ? current! : next);
  }

  /** Starts a reading that replaces the current one once it arrives; a failed one is dropped, and the next request asks Redis again. */
  private readAdmissionDepth(now: number): DepthReading {
    const reading: DepthReading = { depth: this.depth(), readAt: now, addedSince: 0 };
    const settled = () => {
      if (this.nextAdmissionReading === reading) this.nextAdmissionReading = undefined;
    };
    reading.depth.then(() => {
      settled();
      this.admissionReading = reading;
    }, settled);
    return reading;
  }

  /**
   * The job's status; another tenant's job is reported as not found, never as forbidden. Its owner
   * is read first, without the payload, so another tenant's job reads exactly like a missing one
   * (same answer, same commands) and none of its data is loaded.
   */
  async getJob(jobId: string, tenant: string): Promise<RerankJobStatus> {
    await this.checkConnected();
    if ((await readJobOwner(this.redis, this.queue, this.options.prefix, jobId)) !== tenant) throw Errors.jobNotFound(jobId);
    const status = await readJobStatus(this.queue, this.redis, this.options.prefix, jobId);
    if (!status || status.tenant !== tenant) throw Errors.jobNotFound(jobId);
    return status;
  }

  /**
   * Cancels a queued job: it is removed and a tombstone makes it read `cancelled`. Cancelling a
   * cancelled job is a no-op; an active or finished job cannot be cancelled (409).
   */
  async cancel(jobId: string, tenant: string): Promise<RerankJobStatus> {
    const status = await this.getJob(jobId, tenant);
    if (status.status === 'cancelled') return status;
    if (status.status !== 'queued') throw Errors.jobNotCancellable(jobId, status.status);
    const cancelledAt = await this.removeQueued(jobId, status);
    if (cancelledAt === undefined) throw Errors.jobNotCancellable(jobId, 'active');
    return { id: jobId, status: 'cancelled', progress: 0, tenant, createdAt: status.createdAt, finishedAt: cancelledAt };
  }

  /**
   * Stops a job nobody waits for any more (its synchronous client went away): removed while still
   * queued, as `cancel` does; otherwise the worker running it, or the next one to pick it up, is
   * asked to stop it (`requestCancel`): its rows not yet batched are dropped and it ends
   * `cancelled`, neither failed nor retried. A finished job is left as it is.
   */
  async abandon(jobId: string): Promise<void> {
    await this.checkConnected();
    const status = await readJobStatus(this.queue, this.redis, this.options.prefix, jobId);
    if (!status || (status.status !== 'queued' && status.status !== 'active')) return;
    // Asked for first, then removed: see `requestCancel` for the race this closes.
    await requestCancel(this.redis, this.options.prefix, this.name, jobId);
    if (status.status === 'queued') await this.removeQueued(jobId, status);
  }

  /** Resolves with the job's result, or rejects with its failure or a `timeout` error naming it. */
  waitForResult(jobId: string, documentCount: number, timeoutMs: number): Promise<RerankJobResult> {
    return this.waiter.wait(jobId, documentCount, timeoutMs);
  }

  /**
   * Unfinished jobs by BullMQ state, and those not yet started by priority class, of the model
   * queue and its batch line queue together: sampled by the API's `/metrics` on each scrape
   * (queue depth gauges, KEDA's scaling signal).
   */
  async jobCounts(): Promise<QueueJobCounts> {
    const [jobs, lines] = await Promise.all([countJobs(this.queue, this.redis, JOB_CLASSES), countJobs(this.lines, this.redis, LINE_CLASSES)]);
    const sum = (state: keyof QueueJobCounts['states']) => jobs.states[state] + lines.states[state];
    const states = { waiting: sum('waiting'), prioritized: sum('prioritized'), active: sum('active'), delayed: sum('delayed') };
    return {
      states,
      pendingByPriority: { ...jobs.pendingByPriority, ...lines.pendingByPriority },
      pendingPairsByPriority: { ...jobs.pendingPairsByPriority, ...lines.pendingPairsByPriority },
      oldestPendingAgeSecondsByPriority: { ...jobs.oldestPendingAgeSecondsByPriority, ...lines.oldestPendingAgeSecondsByPriority },
    };
  }

  /**
   * Answers every pending result wait with `error(jobId)` now; their jobs go on and can be polled.
   * For a shutdown that cannot wait for them.
   */
  abandonWaits(error: (jobId: string) => Error): void {
    this.waiter.abandonAll(error);
  }

  /** Closes every connection, within a few seconds even when Redis is unreachable. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.waiter.close();
      await closeSharedConnection(this.redis, [this.flows, this.queue, this.lines]);
    })();
    return this.closing;
  }

  /**
   * Admission and add of a job with a random id in one round trip: the add is sent right behind
   * the admission on the same connection, so Redis runs it second, and a refused job's id is
   * held for it to find taken (see job-admission.ts).
   */
  private async admitAndAdd(job: AdmittedJob, data: RerankJobData, opts: JobsOptions): Promise<void> {
    const cap = this.options.tenantMaxQueuedJobs;
    // Both commands in one write: one wake of Redis for the two.
    const [admitting, adding] = inOneWrite(this.redis, () => [
      this.admission.admit(job, { cap, holdRefusedMs: HOLD_REFUSED_ID_MS }),
      this.queue.add(rerankJobName(data.tenant), data, opts),
    ] as const);
    const [admission, added] = await Promise.allSettled([admitting, adding]);
    if (admission.status === 'rejected') {
      // Not known to be admitted: a job the add created goes (best effort; if a worker took it
      // meanwhile, it runs uncounted).
      if (added.status === 'fulfilled') await this.queue.remove(job.jobId).catch(() => undefined);
      await this.undoAdmission(job);
      throw admission.reason;
    }
    if (!admission.value.admitted) {
      await this.admission.releaseHeldId(job).catch(() => undefined);
      this.checkAdmitted(data.tenant, cap, admission.value);
    }
    if (added.status === 'rejected') {
      // Not added (or not known to be): the place goes back. Unreleased, a sweep drops it later;
      // so does the pending-pairs reconcile with the entry.
      await this.undoAdmission(job);
      throw added.reason;
    }
  }

  /** Refuses, as 429, a job its tenant has no place for. */
  private checkAdmitted(tenant: string, cap: number, { admitted, queued }: QueuedJobsReservation): void {
    if (admitted) return;
    throw Errors.overloaded(
      `tenant ${tenant} has ${queued} jobs not yet started (TENANT_MAX_QUEUED_JOBS ${cap}); retry later`,
      TENANT_RETRY_AFTER_SECONDS,
    );
  }

  /** Gives an admitted job's place and pending pairs back (best effort: the sweep and the reconcile heal what this misses). */
  private async undoAdmission(job: AdmittedJob): Promise<void> {
    if (this.options.tenantMaxQueuedJobs > 0) await this.tenantQueued.release(job.tenant, job.jobKey).catch(() => undefined);
    await takePendingPairs(this.redis, this.queue.qualifiedName, [job.jobId]).catch(() => undefined);
  }

  /**
   * Fails fast, as a 503, while the command connection is down: BullMQ would otherwise hold a
   * command until Redis is back, and this makes every outage answer the same.
   */
  private async checkConnected(): Promise<void> {
    if (!(await whenReady(this.redis, CONNECT_WAIT_MS))) throw redisUnavailable(`the ${this.model} queue is not connected`);
  }

  /**
   * Removes a queued job behind a tombstone that makes it read `cancelled`; returns when it was
   * cancelled, or undefined when a worker had locked it in the meantime (then it is active).
   */
  private async removeQueued(jobId: string, { tenant, createdAt }: { tenant: string; createdAt: number }): Promise<number | undefined> {
    const cancelledAt = Date.now();
    const tombstone = { tenant, createdAt, cancelledAt };
    // Tombstone first: between removal and tombstone a reader would otherwise see "not found".
    await writeTombstone(this.redis, this.options.prefix, this.name, jobId, tombstone, this.options.retentionSeconds);
    // remove() refuses a job a worker has locked in the meantime; then it is active, not cancelled.
    const removed = await this.queue.remove(jobId);
    if (removed !== 1) {
      await deleteTombstone(this.redis, this.options.prefix, this.name, jobId);
      return undefined;
    }
    // Unreleased (Redis failed just now), the tenant's sweep drops it once the grace has passed,
    // and the pending-pairs reconcile its entry.
    await this.tenantQueued.release(tenant, this.queue.toKey(jobId)).catch(() => undefined);
    await takePendingPairs(this.redis, this.queue.qualifiedName, [jobId]).catch(() => undefined);
    return cancelledAt;
  }

  /** The job, or its cancel tombstone, is in Redis: one EXISTS, without loading the job. */
  private async exists(jobId: string): Promise<boolean> {
    return (await this.redis.exists(this.queue.toKey(jobId), keys.tombstone(this.options.prefix, this.name, jobId))) > 0;
  }

  private jobOptions(jobId: string, data: RerankJobData): JobsOptions {
    return retryingJobOptions(jobId, this.options, PRIORITY[data.priority]);
  }

  /**
   * A job with a callback is the child of a webhook job (a BullMQ flow): BullMQ itself moves the
   * webhook job to waiting when the rerank job completes, fails for good (ignoreDependencyOnFailure)
   * or is removed by a cancel, so no outcome is lost even if every process restarts in between.
   */
  private async addWithWebhook(data: RerankJobData, callbackUrl: string, opts: JobsOptions): Promise<void> {
    this.flows ??= new FlowProducer({ connection: this.redis, prefix: this.options.prefix });
    const jobId = opts.jobId as string;
    const webhook: WebhookJobData = { jobId, queueName: this.name, callbackUrl };
    const { webhookAttempts, webhookBackoffMs, retentionSeconds } = this.options;
    await this.flows.add({
      name: 'webhook',
      queueName: webhookQueueNameForModel(this.model),
      data: webhook,
      opts: retryingJobOptions(`webhook-${this.name}-${jobId}`, { attempts: webhookAttempts, backoffMs: webhookBackoffMs, retentionSeconds }),
      children: [{ name: rerankJobName(data.tenant), queueName: this.name, data, opts: { ...opts, ignoreDependencyOnFailure: true } }],
    });
  }
}

/** One queue's `QueueJobCounts`, by the priority classes its jobs are added with. */
async function countJobs(queue: Queue, redis: RedisClient, classes: Record<string, number>): Promise<QueueJobCounts> {
  const pendingKey = queue.qualifiedName;
  const [states, byPriority, oldest, pendingPairsByPriority] = await Promise.all([
    queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed'),
    queue.getCountsPerPriority(Object.values(classes)),
    readOldestPending(redis, pendingKey, classes),
    // A scrape also runs one bounded reconcile step (at most one per interval over every
    // replica), so entries a crash left behind leave the gauge without a timer of their own.
    reconcilePendingPairs(redis, pendingKey)
      .catch(() => undefined)
      .then(() => readPendingPairs(redis, pendingKey, Object.keys(classes))),
  ]);
  const now = Date.now();
  return {
    pendingPairsByPriority,
    oldestPendingAgeSecondsByPriority: Object.fromEntries(Object.entries(oldest).map(([name, at]) => [name, Math.max(0, (now - at) / 1000)])),
    states: { waiting: states.waiting ?? 0, prioritized: states.prioritized ?? 0, active: states.active ?? 0, delayed: states.delayed ?? 0 },
    pendingByPriority: Object.fromEntries(Object.entries(classes).map(([name, priority]) => [name, byPriority[priority] ?? 0])),
  };
}
