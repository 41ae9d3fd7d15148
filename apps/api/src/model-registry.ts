import { resolveModelAliases } from '@rerank-pool/config';
import type { Config } from '@rerank-pool/config';
import { Errors, isRerankPoolError } from '@rerank-pool/contracts';
import { modelIdFromRef } from '@rerank-pool/model-hub';
import { RerankQueue, listLiveWorkers, whenReady, within } from '@rerank-pool/queue';
import { closeRedis, openRedis, redisTarget, requestRedisOptions } from '@rerank-pool/redis-connection';
import type { RedisClient } from '@rerank-pool/redis-connection';
import type { RerankJobStatus, WorkerHeartbeat } from '@rerank-pool/queue';
import type { QueueDepth } from '@rerank-pool/telemetry';

/** Whether one Redis connection is up, given up to `waitMs` when it is being made. */
export type ConnectionCheck = (waitMs: number) => Promise<boolean>;

/** The served models and their queues; owns every Redis connection of the API. */
export class ModelRegistry {
  /** Model ids in configuration order; the first is the default. */
  readonly modelIds: readonly string[];
  /** RERANK_MODEL_ALIASES: other names of served models (alias -> served id). */
  readonly aliases: ReadonlyMap<string, string>;
  private readonly queues = new Map<string, RerankQueue>();
  private readonly redis: RedisClient;
  private readonly prefix: string;
  /** Every Redis connection of the API by name, for readiness: each says whether it is up. */
  private readonly connections = new Map<string, ConnectionCheck>();
  private closing?: Promise<void>;

  constructor(config: Config, modelRefs: readonly string[]) {
    if (modelRefs.length === 0) throw new TypeError('at least one model must be served');
    const connection = redisTarget(config);
    this.prefix = config.queuePrefix;
    this.modelIds = [...new Set(modelRefs.map(modelIdFromRef))];
    this.aliases = resolveModelAliases(config.rerankModelAliases, this.modelIds);
    for (const id of this.modelIds) {
      this.queues.set(
        id,
        new RerankQueue(id, {
          connection,
          prefix: this.prefix,
          retentionSeconds: config.jobRetentionSeconds,
          tenantMaxQueuedJobs: config.tenantMaxQueuedJobs,
          waitReplicas: config.redisWaitReplicas,
          waitTimeoutMs: config.redisWaitTimeoutMs,
        }),
      );
    }
    this.redis = openRedis(requestRedisOptions(connection));
    // ioredis reconnects by itself; a failing command reaches the request that issued it.
    this.redis.on('error', () => {});
    this.watchConnection('registry', (waitMs) => whenReady(this.redis, waitMs));
    for (const [id, queue] of this.queues) this.watchConnection(`queue ${id}`, (waitMs) => queue.ready(waitMs));
  }

  /** The registry's own (fail-fast) connection to the queue Redis. */
  get connection(): RedisClient {
    return this.redis;
  }

  /** Counts a connection opened elsewhere in the API (batches, dashboard) in readiness. */
  watchConnection(name: string, check: ConnectionCheck): void {
    this.connections.set(name, check);
  }

  /** Names of the connections that are down, giving one being made up to `waitMs` (a process just started). */
  async disconnected(waitMs: number): Promise<string[]> {
    const states = await Promise.all([...this.connections].map(async ([name, check]) => [name, await check(waitMs)] as const));
    return states.filter(([, up]) => !up).map(([name]) => name);
  }

  /** Answers every pending result wait at once (shutdown); the jobs go on and can be polled. */
  abandonWaits(error: (jobId: string) => Error): void {
    for (const queue of this.queues.values()) queue.abandonWaits(error);
  }

  /** Aliases answered by the served model `id`, in configuration order. */
  aliasesOf(id: string): string[] {
    return [...this.aliases].filter(([, target]) => target === id).map(([alias]) => alias);
  }

  /** The queue of `model` (a served id or an alias of one), or of the default model when none is named. */
  queueFor(model: string | undefined): RerankQueue {
    const queue = this.queues.get(model === undefined ? this.modelIds[0] : (this.aliases.get(model) ?? model));
    if (!queue) throw Errors.unknownModel(model as string, this.modelIds);
    return queue;
  }

  /** A job id does not say its model, so every queue is asked (a handful of models at most). */
  async findJob(jobId: string, tenant: string): Promise<{ queue: RerankQueue; status: RerankJobStatus }> {
    const found = await Promise.all(
      [...this.queues.values()].map((queue) =>
        queue.getJob(jobId, tenant).then(
          (status) => ({ queue, status }),
          (error: unknown) => {
            if (isRerankPoolError(error) && error.code === 'job_not_found') return undefined;
            throw error;
          },
        ),
      ),
    );
    const match = found.find((entry) => entry !== undefined);
    if (!match) throw Errors.jobNotFound(jobId);
    return match;
  }

  /** Job counts and live workers of every served model's queue, for the queue gauges of `/metrics`. */
  queueDepths(): Promise<QueueDepth[]> {
    return Promise.all(
      [...this.queues].map(async ([model, queue]) => {
        const [counts, workers] = await Promise.all([queue.jobCounts(), this.liveWorkers(model)]);
        return { model, ...counts, liveWorkers: workers.length };
      }),
    );
  }

  liveWorkers(model: string): Promise<WorkerHeartbeat[]> {
    return listLiveWorkers(this.redis, this.prefix, model);
  }

  /**
   * Commands wait for a reconnect rather than fail (maxRetriesPerRequest: null), so readiness
   * bounds the wait itself: an unreachable Redis must read as "not ready", not as a hang.
   */
  async ping(timeoutMs = 1000): Promise<void> {
    if ((await within(this.redis.ping(), timeoutMs)) === 'timeout') throw new Error(`no answer within ${timeoutMs} ms`);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.queues.values()].map((queue) => queue.close()));
      await closeRedis(this.redis);
    })();
    return this.closing;
  }
}
