import { basename } from 'node:path';
import { Worker, type Job } from 'bullmq';
import type { BatchStats } from '@rerank-pool/batcher';
import { BatchLineSettler, type BatchLineReceipt } from '@rerank-pool/batches';
import type { RerankJobData, RerankJobResult } from '@rerank-pool/contracts';
import { resolveModelRef } from '@rerank-pool/model-hub';
import { InferencePool } from '@rerank-pool/model-runtime';
import { CANCEL_REQUESTED, CancelRequestListener, isRedisUnreachable, lineQueueNameForModel, pickUpJob, publishHeartbeat, publishResult, queueNameForModel, removeHeartbeat, takePendingPairs, WebhookDispatcher, within, workerLockOptions } from '@rerank-pool/queue';
import { bullConnection, closeRedis, openRedis, redisTarget } from '@rerank-pool/redis-connection';
import type { BullConnection, RedisClient } from '@rerank-pool/redis-connection';
import { modelIdentity, openScoreCache, scoreCacheTarget, type ScoreCache } from '@rerank-pool/score-cache';
import { createLogger, MetricsServer, processMetrics } from '@rerank-pool/telemetry';
import { JobScorer } from './job-scorer.js';
import { laneBatchers, type LaneBatchers } from './lane-batchers.js';
import { LostResults } from './lost-results.js';
import { defaultWorkerId, pinoWorkerLogger, WORKER_DEFAULTS, type RerankWorkerOptions, type WorkerLogger } from './worker-options.js';
import { registerWorkerGauges } from './worker-gauges.js';

/** After the drain timeout, how long handing active jobs back may take before a forced close. */
const HAND_BACK_TIMEOUT_MS = 2000;
/** How often a drain looks whether it can stop waiting. */
const DRAIN_POLL_MS = 100;
/** A forced close or a last Redis write (heartbeat removal) gets this long; Redis may be gone. */
const CLOSE_STEP_TIMEOUT_MS = 1000;

/**
 * How long after SIGTERM a worker process has surely exited: the drain, the hand-back, a forced
 * close and the last closes, each bounded (`close`).
 */
export function workerStopBoundMs(drainTimeoutMs: number): number {
  return drainTimeoutMs + HAND_BACK_TIMEOUT_MS + 2 * CLOSE_STEP_TIMEOUT_MS;
}

/** Logs an outage once when it starts and once when it ends, not every reconnect attempt. */
function logConnectionState(redis: RedisClient, logger: WorkerLogger): void {
  let down = false;
  redis.on('error', (error) => {
    if (down) return;
    down = true;
    logger.error('redis unreachable; retrying every second', { err: error.message });
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info('redis reachable again');
  });
}


/** Everything one served model owns inside a worker process. */
interface ServedModel {
  id: string;
  pool: InferencePool;
  batchers: LaneBatchers;
  scorer: JobScorer;
  /** The consumers of the model's online queue and of its batch line queue. */
  consumers: { jobs: Worker<RerankJobData, RerankJobResult | BatchLineReceipt>; lines: Worker<RerankJobData, RerankJobResult | BatchLineReceipt> };
  /** The Hub commit the files come from, when known (TEI's `model_sha`). */
  revision?: string;
  /** What the score cache knows the model by (`modelIdentity`), when there is a cache. */
  identity?: string;
}

function consumersOf(m: ServedModel): Worker<RerankJobData, RerankJobResult | BatchLineReceipt>[] {
  return [m.consumers.jobs, m.consumers.lines];
}

/** A Hub cache snapshot folder is named by its commit (`snapshots/<sha>`); a plain directory has none. */
function hubRevision(source: string, dir: string): string | undefined {
  if (source === 'directory') return undefined;
  const name = basename(dir);
  return /^[0-9a-f]{40}$/.test(name) ? name : undefined;
}

/**
 * A worker process's share of the rerank pool: for each model, an inference pool, a batcher per
 * lane shared by all of that model's active jobs of the lane, and two BullMQ consumers, of its
 * online jobs and of its batch lines, each with WORKER_CONCURRENCY jobs in flight so the batchers
 * always have pairs from many jobs to merge.
 */
export class RerankWorker {
  readonly workerId: string;
  private readonly models: ServedModel[];
  private readonly redis: RedisClient;
  private readonly bull: BullConnection;
  private readonly dispatcher?: WebhookDispatcher;
  private readonly cancels: CancelRequestListener;
  private readonly scoreCache?: ScoreCache;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly logger: WorkerLogger;
  private readonly drainTimeoutMs: number;
  private readonly queuePrefix: string;
  private readonly removeMetricSources: () => void;
  private metricsServer?: MetricsServer;
  private closing?: Promise<void>;

  private constructor(args: {
    workerId: string;
    models: ServedModel[];
    redis: RedisClient;
    bull: BullConnection;
    dispatcher?: WebhookDispatcher;
    cancels: CancelRequestListener;
    scoreCache?: ScoreCache;
    heartbeat: NodeJS.Timeout;
    logger: WorkerLogger;
    drainTimeoutMs: number;
    queuePrefix: string;
    removeMetricSources: () => void;
  }) {
    this.workerId = args.workerId;
    this.models = args.models;
    this.redis = args.redis;
    this.bull = args.bull;
    this.dispatcher = args.dispatcher;
    this.cancels = args.cancels;
    this.scoreCache = args.scoreCache;
    this.heartbeat = args.heartbeat;
    this.logger = args.logger;
    this.drainTimeoutMs = args.drainTimeoutMs;
    this.queuePrefix = args.queuePrefix;
    this.removeMetricSources = args.removeMetricSources;
  }

  static async start(options: RerankWorkerOptions): Promise<RerankWorker> {
    const { config } = options;
    const logger = options.logger ?? pinoWorkerLogger(createLogger({ level: config.logLevel, name: 'worker' }));
    const metrics = options.metrics ?? processMetrics();
    const workerId = options.workerId ?? defaultWorkerId();
    const heartbeatMs = options.heartbeatMs ?? WORKER_DEFAULTS.heartbeatMs;
    const connection = redisTarget(config);
    const redis = openRedis(connection);
    // What every BullMQ consumer and event reader of this process opens its connections from.
    const bull = bullConnection(connection);
    logConnectionState(redis, logger);
    // The worker that finishes a batch line records its result in the batch, once (libs/batches).
    const settler = new BatchLineSettler(redis, config.queuePrefix);
    const served: ServedModel[] = [];
    let scoreCache: ScoreCache | undefined;
    // Stops a running job whose synchronous client went away (RerankQueue.abandon): the job's
    // signal aborts with CANCEL_REQUESTED, which the scorer tells from a shutdown's hand-back.
    const cancels = new CancelRequestListener(connection, config.queuePrefix);
    cancels.on('cancel', (queueName, jobId) => {
      for (const m of served) if (queueNameForModel(m.id) === queueName) m.consumers.jobs.cancelJob(jobId, CANCEL_REQUESTED);
    });
    try {
      await cancels.start();
      const cacheTarget = scoreCacheTarget(config);
      if (cacheTarget !== undefined) {
        scoreCache = await openScoreCache({
          connection: cacheTarget,
          prefix: config.queuePrefix,
          ttlSeconds: config.scoreCacheTtlSeconds,
          queue: redis,
          warn: (message) => logger.warn(message),
          onError: () => metrics.cacheErrors.inc(),
        });
      }
      for (const ref of options.models ?? config.rerankModels) {
        // The variant goes to the Hub too: a cached snapshot without onnx/model_<variant>.onnx is pulled again.
        const resolved = await resolveModelRef(ref, { variant: config.modelVariant });
        const pool = await InferencePool.open({
          modelDir: resolved.dir,
          modelId: resolved.id,
          variant: config.modelVariant,
          threads: config.poolThreads,
          batchThreads: config.batchPoolThreads,
          batchNice: config.batchThreadNice,
          intraOpThreads: config.ortIntraOpThreads,
          executionProvider: config.executionProvider,
          maxBatchTokens: config.maxBatchTokens,
          onWarning: (message) => logger.warn(message, { model: resolved.id }),
        });
        if (pool.model.synthetic) logger.warn(`${resolved.id} is a synthetic model: its scores are meaningless`, { model: resolved.id });
        const batchers = laneBatchers(resolved.id, pool, config);
        for (const batcher of Object.values(batchers)) batcher.on('batch', (stats) => metrics.observeBatch(resolved.id, stats));
        const identity = scoreCache && (await modelIdentity(pool.model));
        const scorer = new JobScorer(pool, batchers, { metrics, logger }, scoreCache && identity ? { store: scoreCache, identity } : undefined);
        // Online jobs and batch lines in queues (and job slots) of their own: a saturating batch
        // never holds the slot an interactive job needs (see lineQueueNameForModel).
        const consumeQueue = (queueName: string, batchLines: boolean) => {
          const lost = new LostResults();
          const consumer: Worker<RerankJobData, RerankJobResult | BatchLineReceipt> = new Worker<RerankJobData, RerankJobResult | BatchLineReceipt>(
            queueName,
            settler.wrap(async (job: Job<RerankJobData>, token?: string, signal?: AbortSignal) => {
              // Scoring starts first (its tokenization is on its way to a thread before the
              // bookkeeping's command is built and sent), and the bookkeeping is not awaited.
              // BullMQ tracks the job before calling this, so a cancellation found here, or
              // published from now on, reaches its signal.
              const scoring = scorer.process(job, token, signal);
              if (!batchLines) {
                pickUpJob(redis, config.queuePrefix, job).then(
                  ({ cancelRequested }) => cancelRequested && consumer.cancelJob(job.id!, CANCEL_REQUESTED),
                  (error: Error) => logger.warn('job pick-up bookkeeping failed', { model: resolved.id, jobId: job.id, err: error.message }),
                );
              } else {
                // A batch line has no tenant place nor cancel marker; only its pending pairs go.
                takePendingPairs(redis, job.queueQualifiedName, [job.id!]).catch((error: Error) =>
                  logger.warn('job pick-up bookkeeping failed', { model: resolved.id, jobId: job.id, err: error.message }),
                );
              }
              const result = await scoring;
              const { replyTo } = job.data as { replyTo?: unknown };
              if (typeof replyTo === 'string') publishResult(redis, replyTo, job.id!, result);
              lost.returnedResult(job.id!);
              return result;
            }),
            {
              connection: bull.connection,
              prefix: config.queuePrefix,
              concurrency: config.workerConcurrency,
              autorun: false,
              name: workerId,
              // Locks, stall checks and retries that hand a killed worker's jobs to the others
              // within seconds (invariant 3); see workerLockOptions.
              ...workerLockOptions(config.workerLockMs),
            },
          );
          consumer.on('completed', (job) => lost.recorded(job.id!));
          consumer.on('error', (error) => {
            // BullMQ reports every failed reconnect; the outage itself is logged once, above.
            if (isRedisUnreachable(error)) return;
            if (lost.isLoss(error)) {
              // The job is back in the queue (or soon will be) and runs again: nothing is lost but
              // the work, and an operator should see how often that happens.
              metrics.resultsDiscarded.inc({ model: resolved.id });
              logger.warn('result discarded: the job lock was lost before it could be recorded; the job runs again', { model: resolved.id, err: error.message });
            } else if (!LostResults.isLockError(error)) {
              logger.error('queue consumer error', { model: resolved.id, err: error.message });
            }
          });
          // Failed attempts are logged by the scorer, inside the job's span; a stall happens outside it.
          consumer.on('stalled', (jobId) => {
            metrics.jobsStalled.inc({ model: resolved.id });
            logger.warn('job stalled: its worker stopped renewing the lock', { model: resolved.id, jobId });
          });
          return consumer;
        };
        const consumers = { jobs: consumeQueue(queueNameForModel(resolved.id), false), lines: consumeQueue(lineQueueNameForModel(resolved.id), true) };
        served.push({ id: resolved.id, pool, batchers, scorer, consumers, revision: hubRevision(resolved.source, resolved.dir), identity });
        logger.info('serving model', {
          model: resolved.id,
          dir: resolved.dir,
          threads: pool.options.threads,
          executionProvider: pool.executionProvider,
          maxLength: pool.model.maxLength,
        });
      }
    } catch (error) {
      await Promise.allSettled(served.map(async (m) => { await Promise.all(consumersOf(m).map((consumer) => consumer.close())); await m.pool.close(); }));
      await cancels.close();
      await scoreCache?.close();
      await bull.close();
      redis.disconnect();
      throw error;
    }

    const beat = () =>
      Promise.all(
        served.map((m) =>
          publishHeartbeat(
            redis,
            config.queuePrefix,
            {
              model: m.id,
              workerId,
              maxLength: m.pool.model.maxLength,
              executionProvider: m.pool.executionProvider,
              threads: m.pool.options.threads,
              // What TEI's GET /info reports of the model, read by the API from here.
              dtype: m.pool.model.dtype,
              labels: m.pool.model.labels,
              revision: m.revision,
            },
            heartbeatMs * 3,
          ),
        ),
      ).then(
        // The API looks a request's pairs up under the identity the model's workers announce.
        () => Promise.all(served.map((m) => m.identity && scoreCache?.publishIdentity(m.id, m.identity))),
        (error: Error) => logger.error('heartbeat failed', { err: error.message }),
      );
    await beat();
    const heartbeat = setInterval(beat, heartbeatMs);
    heartbeat.unref();

    let dispatcher: WebhookDispatcher | undefined;
    if (config.webhookSecret) {
      dispatcher = new WebhookDispatcher({ connection, models: served.map((m) => m.id), secret: config.webhookSecret, prefix: config.queuePrefix, lockDurationMs: config.workerLockMs, allowedHosts: config.webhookAllowedHosts });
      dispatcher.on('error', (error) => logger.warn('webhook delivery', { err: error.message }));
      dispatcher.start();
    }
    const worker = new RerankWorker({
      workerId,
      models: served,
      redis,
      bull,
      dispatcher,
      cancels,
      scoreCache,
      heartbeat,
      logger,
      drainTimeoutMs: options.drainTimeoutMs ?? config.workerDrainMs,
      queuePrefix: config.queuePrefix,
      removeMetricSources: registerWorkerGauges(metrics, { models: served, redis, dispatcher }),
    });
    if (options.metricsPort !== undefined) {
      // Before any job is taken: a port clash must fail the start, not strand running jobs.
      try {
        worker.metricsServer = await MetricsServer.start({ metrics, port: options.metricsPort, host: config.host, healthy: () => worker.running });
      } catch (error) {
        await worker.close();
        throw error;
      }
      logger.info('serving /metrics and /healthz', { port: worker.metricsServer.port });
    }
    for (const m of served) for (const consumer of consumersOf(m)) void consumer.run().catch((error: Error) => logger.error('consumer stopped', { model: m.id, queue: consumer.name, err: error.message }));
    return worker;
  }

  /** True until `close()` starts draining; the worker's `/healthz` answers 503 from then on. */
  get running(): boolean {
    return this.closing === undefined;
  }

  /** Port of the `/metrics` + `/healthz` server, when one was asked for (`metricsPort`). */
  get metricsPort(): number | undefined {
    return this.metricsServer?.port;
  }

  /** Ids of the models this worker serves. */
  get modelIds(): string[] {
    return this.models.map((m) => m.id);
  }

  /** Subscribes to per-batch statistics of every served model. */
  onBatch(listener: (model: string, stats: BatchStats) => void): void {
    for (const m of this.models) for (const batcher of Object.values(m.batchers)) batcher.on('batch', (stats) => listener(m.id, stats));
  }

  /**
   * Graceful stop: takes no new jobs, lets active ones finish within the drain timeout, then
   * closes pools and connections. Jobs still running at the timeout are handed back to their
   * queue (no attempt spent) for another worker; one that cannot be handed back keeps its Redis
   * lock until it expires, and BullMQ's stalled-job check then does the same: none is lost.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.heartbeat);
      // Alongside the drain, and bounded: unremoved, a heartbeat expires by itself.
      const goodbyes = within(Promise.allSettled(this.models.map((m) => removeHeartbeat(this.redis, this.queuePrefix, m.id, this.workerId))), CLOSE_STEP_TIMEOUT_MS);
      let closed = false;
      const drained = Promise.all(this.models.flatMap(consumersOf).map((consumer) => consumer.close())).then(() => {
        closed = true;
      });
      drained.catch(() => undefined);
      if (!(await this.drain(drained)) && this.activeJobs > 0) {
        // Unstarted rows leave the batcher and each job goes back to its queue with its attempt
        // unspent. Without Redis nothing can be handed back: the jobs keep their locks until
        // they expire, and the stalled-job check of the other workers runs them again.
        this.logger.warn('drain timed out; handing active jobs back to the queue', { timeoutMs: this.drainTimeoutMs, activeJobs: this.activeJobs });
        for (const consumer of this.models.flatMap(consumersOf)) consumer.cancelAllJobs('the worker is shutting down');
        if (this.redis.status !== 'ready' || (await within(drained, HAND_BACK_TIMEOUT_MS)) === 'timeout') {
          this.logger.warn('jobs could not be handed back; the stalled-job check will return them', { activeJobs: this.activeJobs });
        }
      }
      // A BullMQ worker closes once, so a close still waiting on Redis cannot be forced: cut its
      // connection instead.
      if (!closed) await within(Promise.allSettled(this.models.flatMap(consumersOf).map((consumer) => consumer.disconnect())), CLOSE_STEP_TIMEOUT_MS);
      await goodbyes;
      // An undelivered webhook keeps its lock until it expires and is then delivered by another worker.
      const dispatcherClosed = this.dispatcher && within(this.dispatcher.close(), CLOSE_STEP_TIMEOUT_MS);
      await Promise.allSettled([...this.models.map(async (m) => { await Promise.all(Object.values(m.batchers).map((batcher) => batcher.close())); await m.pool.close(); }), dispatcherClosed, this.cancels.close(), this.scoreCache?.close()]);
      await this.bull.close();
      await closeRedis(this.redis);
      this.removeMetricSources();
      await this.metricsServer?.close();
      this.logger.info('worker stopped', { workerId: this.workerId });
    })();
    return this.closing;
  }

  /** Jobs being scored now, over every served model. */
  private get activeJobs(): number {
    return this.models.reduce((sum, m) => sum + m.scorer.activeJobs, 0);
  }

  /**
   * True once every consumer has closed within the drain timeout. Gives up early when nothing is
   * running and Redis is unreachable: there is nothing to finish and nobody to tell.
   */
  private async drain(drained: Promise<unknown>): Promise<boolean> {
    const deadline = Date.now() + this.drainTimeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      if ((await within(drained, Math.min(DRAIN_POLL_MS, left))) === 'done') return true;
      if (this.activeJobs === 0 && this.redis.status !== 'ready') return false;
    }
  }
}
