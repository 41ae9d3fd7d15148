import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Queue } from 'bullmq';
import { Errors, RerankPoolError } from '@rerank-pool/contracts';
import { checkObjectUrl, ObjectStoreError, useObjectRef } from '@rerank-pool/object-store';
import type { ObjectStore } from '@rerank-pool/object-store';
import { closeSharedConnection, IdempotencySecret, lineQueueNameForModel, openConfirmedWrites, whenReady } from '@rerank-pool/queue';
import type { ReplicationBarrier } from '@rerank-pool/queue';
import type { RedisClient } from '@rerank-pool/redis-connection';
import { idempotentBatchId, isBatchId, newBatchId } from './batch-ids.js';
import { BatchDriver } from './batch-driver.js';
import type { BatchDriverEvents } from './batch-driver.js';
import { fillBatchOptions } from './batch-options.js';
import type { BatchOptions, FilledBatchOptions } from './batch-options.js';
import { BatchRecords } from './batch-records.js';
import type { BatchState } from './batch-state.js';
import { LineJobs } from './line-jobs.js';
import { readResults } from './results-ref.js';
import { storeLayout } from './store-layout.js';
import { BatchUploadWriter } from './upload-writer.js';
import { WindowKeeper } from './window-keeper.js';

export interface OpenedUpload {
  batchId: string;
  /** Absent when the idempotency key names a batch whose upload already completed. */
  upload?: BatchUploadWriter;
}

export interface BatchRequestContext {
  tenant: string;
  idempotencyKey?: string;
  /** The W3C trace context of the request creating the batch (its server span), carried into its lines' jobs, whose spans link to it. */
  trace?: Record<string, string>;
}

/** A store failure as the error a client gets, naming the field whose URL failed. */
function urlError(error: unknown, field: string): RerankPoolError {
  if (!(error instanceof ObjectStoreError)) return Errors.unavailable(`${field} could not be checked: ${(error as Error).message}`, error);
  switch (error.code) {
    case 'forbidden_url':
      return new RerankPoolError('forbidden', `${field}: ${error.message}`, { field });
    case 'unavailable':
      return Errors.unavailable(`${field}: ${error.message}`, error);
    default:
      return new RerankPoolError('invalid_request', `${field}: ${error.message}`, { field });
  }
}

/**
 * Offline batches for the API: uploads into the batch store, batches by reference, status,
 * results and cancel, and the driver that runs them. Knows nothing of HTTP; lines become jobs
 * through the `parser` the API gives it.
 */
export class BatchService extends EventEmitter<BatchDriverEvents> {
  readonly options: FilledBatchOptions;
  private readonly redis: RedisClient;
  private readonly records: BatchRecords;
  private readonly queues = new Map<string, Queue>();
  private readonly jobs: LineJobs;
  private readonly idempotencySecret: IdempotencySecret;
  private driver?: BatchDriver;
  private closing?: Promise<void>;
  private readonly replication?: ReplicationBarrier;

  constructor(options: BatchOptions) {
    super();
    this.options = fillBatchOptions(options);
    // Fail-fast options: a request during an outage gets its 503, and the driver retries its step.
    // Uploads are sealed and references created on it, so a WAIT there confirms them.
    ({ redis: this.redis, replication: this.replication } = openConfirmedWrites(this.options.connection, { replicas: this.options.waitReplicas, timeoutMs: this.options.waitTimeoutMs }));
    // ioredis reconnects by itself; a failing command reaches its caller.
    this.redis.on('error', () => {});
    this.records = new BatchRecords(this.redis, this.options.prefix);
    this.idempotencySecret = new IdempotencySecret(this.redis, this.options.prefix);
    this.jobs = new LineJobs(this.redis, (model) => this.queueFor(model), this.options.models, this.options);
  }

  /** Whether the service's Redis connection is up, waiting up to `waitMs` for one being made (readiness). */
  ready(waitMs: number): Promise<boolean> {
    return whenReady(this.redis, waitMs);
  }

  get store(): ObjectStore {
    return this.options.store;
  }

  /**
   * Starts (or, with a known idempotency key, continues) an upload. A key whose upload finished
   * returns its batch without an upload; a key whose upload is in progress elsewhere is
   * `batch_busy`, for as long as that upload keeps its lease.
   */
  async openUpload({ tenant, idempotencyKey, trace }: BatchRequestContext): Promise<OpenedUpload> {
    const batchId = idempotencyKey === undefined ? newBatchId() : idempotentBatchId(await this.idempotencySecret.get(), tenant, idempotencyKey);
    const token = randomUUID();
    const { uploadLeaseMs: leaseMs, retentionSeconds } = this.options;
    const { state, value } = await this.records.openUpload(batchId, { tenant, token, leaseMs, retentionSeconds, trace });
    if (state === 'sealed') return { batchId };
    if (state === 'busy') throw Errors.batchBusy(batchId, Math.max(1, Math.ceil(value / 1000)));
    // Ids are random or hash the tenant in, so another tenant's batch here means a broken invariant.
    if (state === 'foreign') throw Errors.internal(`batch id ${batchId} collides with another tenant's batch`);
    // An upload that is never sealed expires in Redis; this lets the janitor remove its parts too.
    await this.records.scheduleExpiry(batchId, Date.now() + retentionSeconds * 1000);
    const stored = (await this.records.read(batchId))!;
    const upload = new BatchUploadWriter({
      batchId,
      token,
      resume: { parts: stored.upload.parts, physical: stored.upload.physical, total: stored.total },
      records: this.records,
      store: this.store,
      options: this.options,
      onSealed: () => this.driver?.wake(),
    });
    return { batchId, upload };
  }

  /**
   * A batch whose input is read from `inputUrl` (and whose results go to `outputUrl`): the URLs
   * must lie inside the allowed prefixes, the input must exist and the output be writable, all
   * checked now so a mistake is a 4xx, not a batch that fails later.
   */
  async createByReference(context: BatchRequestContext, urls: { inputUrl: string; outputUrl?: string }): Promise<string> {
    const { tenant, idempotencyKey, trace } = context;
    const inputUrl = await checkObjectUrl(urls.inputUrl, this.options.urlPrefixes).catch((error) => {
      throw urlError(error, 'input_url');
    });
    const outputUrl =
      urls.outputUrl === undefined
        ? undefined
        : await checkObjectUrl(urls.outputUrl, this.options.urlPrefixes).catch((error) => {
            throw urlError(error, 'output_url');
          });
    const batchId = idempotencyKey === undefined ? newBatchId() : idempotentBatchId(await this.idempotencySecret.get(), tenant, idempotencyKey);
    const existing = await this.records.read(batchId);
    if (existing) {
      if (existing.tenant !== tenant) throw Errors.internal(`batch id ${batchId} collides with another tenant's batch`);
      return batchId;
    }
    await this.checkInput(inputUrl);
    if (outputUrl !== undefined) await this.checkOutput(outputUrl, batchId);
    // Listed first: a crash between the two leaves a listed id with no batch (dropped by the driver), never an unlisted batch.
    await this.records.addActive(batchId);
    const created = await this.records.createRef(batchId, { tenant, inputUrl, outputUrl, trace });
    if (created === 'foreign') throw Errors.internal(`batch id ${batchId} collides with another tenant's batch`);
    this.driver?.wake();
    return batchId;
  }

  /**
   * Returns once `waitReplicas` replicas hold the batch just created (sealed, or by reference), so
   * a failover right after cannot lose a batch its client was told about; `unavailable` (503)
   * naming it otherwise. Nothing to wait for without REDIS_WAIT_REPLICAS.
   */
  async acknowledge(batchId: string): Promise<void> {
    await this.replication?.confirm({ kind: 'batch', id: batchId });
  }

  /** The batch's state; another tenant's batch is not found, never forbidden. */
  async status(batchId: string, tenant: string): Promise<BatchState> {
    const state = isBatchId(batchId) ? await this.records.read(batchId) : undefined;
    if (!state || state.tenant !== tenant) throw Errors.batchNotFound(batchId);
    return state;
  }

  /**
   * The `limit` oldest unfinished batches (sealed or by reference, not yet finished), in no
   * tenant's name: for the batch gauges of `/metrics`. A batch finished between the two reads is left out.
   */
  async unfinished(limit: number): Promise<BatchState[]> {
    const ids = await this.records.activeIds(limit);
    const states = await Promise.all(ids.map((id) => this.records.read(id)));
    return states.filter((state): state is BatchState => state !== undefined && state.finishedAt === undefined && state.cancelledAt === undefined);
  }

  /**
   * The results (NDJSON, input order) of a finished batch, streamed from where they were
   * written. An unfinished batch is `batch_not_finished`: a partial file that looks complete is
   * worse than waiting.
   */
  async results(batchId: string, tenant: string): Promise<AsyncIterable<Buffer>> {
    const state = await this.status(batchId, tenant);
    if (state.finishedAt === undefined || state.resultsRef === undefined) {
      throw Errors.batchNotFinished(batchId, state.inputComplete ? state.status : 'still being uploaded');
    }
    try {
      return await readResults(state.resultsRef, this.store, this.options.env);
    } catch (error) {
      if (error instanceof ObjectStoreError && error.code === 'not_found') throw Errors.batchNotFound(batchId);
      throw Errors.unavailable(`the results of batch ${batchId} could not be read: ${(error as Error).message}`, error);
    }
  }

  /**
   * Cancels the lines that have not started: removed from their queues, they read `cancelled`,
   * as do all lines not fed yet. Running lines finish and keep their results; the batch
   * finishes with them. Refused (`batch_busy`) while an upload is still sending lines.
   */
  async cancel(batchId: string, tenant: string): Promise<BatchState> {
    await this.status(batchId, tenant);
    await this.records.addActive(batchId);
    const begun = await this.records.cancel(batchId);
    if (begun.state === 'busy') throw Errors.batchBusy(batchId, Math.max(1, Math.ceil(begun.value / 1000)));
    if (begun.state === 'gone') throw Errors.batchNotFound(batchId);
    const state = (await this.records.read(batchId))!;
    if (state.finishedAt === undefined) {
      // Done here so the answer already counts them; the driver repeats it for anything racing in.
      await new WindowKeeper(batchId, this.records, this.jobs).cancel(state);
      await this.records.settleTail(batchId, 'cancelled');
      this.driver?.wake();
    }
    return this.status(batchId, tenant);
  }

  /** Removes a batch entirely: an upload refused (too many lines) leaves nothing behind. */
  async discard(batchId: string): Promise<void> {
    const state = await this.records.read(batchId);
    await this.records.discard(batchId, state?.total ?? 0);
    await this.store.deletePrefix(storeLayout.root(batchId));
    await this.records.forgetExpiry(batchId);
  }

  /** Runs this process's share of the batches (see BatchDriver). */
  startDriving(): void {
    if (this.driver || this.closing) return;
    this.driver = new BatchDriver({ records: this.records, store: this.store, jobs: this.jobs, options: this.options });
    this.driver.on('warning', (message, error) => this.emit('warning', message, error));
    this.driver.start();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.driver?.close();
      await closeSharedConnection(this.redis, [...this.queues.values()]);
    })();
    return this.closing;
  }

  private async checkInput(inputUrl: string): Promise<void> {
    try {
      const head = await useObjectRef(inputUrl, { env: this.options.env }, (store, key) => store.head(key));
      if (!head) throw new RerankPoolError('invalid_request', `input_url: ${inputUrl} does not exist`, { field: 'input_url' });
    } catch (error) {
      if (error instanceof RerankPoolError) throw error;
      throw urlError(error, 'input_url');
    }
  }

  /** Writes and deletes a probe beside the output, so an unwritable output_url is refused now. */
  private async checkOutput(outputUrl: string, batchId: string): Promise<void> {
    try {
      await useObjectRef(outputUrl, { env: this.options.env }, async (store, key) => {
        const probe = `${key}.${batchId}.probe`;
        await store.put(probe, '');
        await store.delete(probe);
      });
    } catch (error) {
      throw urlError(error, 'output_url');
    }
  }

  private queueFor(model: string): Queue {
    let queue = this.queues.get(model);
    if (!queue) {
      // Shares the service's connection: one per process, and its state is `connected`.
      queue = new Queue(lineQueueNameForModel(model), { connection: this.redis, prefix: this.options.prefix });
      queue.on('error', () => {});
      this.queues.set(model, queue);
    }
    return queue;
  }
}
