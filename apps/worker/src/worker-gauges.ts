import { POOL_LANES, type PoolLane } from '@rerank-pool/model-runtime';
import type { RedisClient } from '@rerank-pool/redis-connection';
import { within } from '@rerank-pool/queue';
import type { WebhookDispatcher } from '@rerank-pool/queue';
import type { RerankMetrics } from '@rerank-pool/telemetry';

/** What the gauges read of one served model. */
export interface GaugedModel {
  id: string;
  pool: { utilization(lane: PoolLane): number; model: { dtype: string } };
}

export interface WorkerGaugeSources {
  /** The served models; read at each scrape, so models added after registering are included. */
  models: readonly GaugedModel[];
  /** The worker's queue connection, pinged at scrape time for `rerank_redis_up`. */
  redis: RedisClient;
  /** The webhook dispatcher, when this worker delivers webhooks. */
  dispatcher?: WebhookDispatcher;
}

const REDIS_PROBE_TIMEOUT_MS = 1000;

/**
 * Registers the worker's scrape-time sources (pool utilization, loaded models and their dtype,
 * Redis reachability) and counts webhook outcomes; returns the removal of the sources.
 */
export function registerWorkerGauges(metrics: RerankMetrics, { models, redis, dispatcher }: WorkerGaugeSources): () => void {
  const removals = [
    metrics.addPoolUtilizationSource(() => models.flatMap((m) => POOL_LANES.map((lane) => ({ model: m.id, lane, ratio: m.pool.utilization(lane) })))),
    metrics.operations.addLoadedModelSource(() => models.map((m) => ({ model: m.id, dtype: m.pool.model.dtype }))),
    // Not 'ready' is down at once: a PING would otherwise queue until the reconnect.
    metrics.operations.addRedisProbe(async () => redis.status === 'ready' && (await within(redis.ping(), REDIS_PROBE_TIMEOUT_MS)) === 'done'),
  ];
  if (dispatcher) {
    metrics.operations.startWebhookCounts();
    dispatcher.on('delivered', () => metrics.operations.countWebhookOutcome('delivered'));
    dispatcher.on('delivery-failed', () => metrics.operations.countWebhookOutcome('failed'));
    dispatcher.on('delivery-given-up', () => metrics.operations.countWebhookOutcome('given_up'));
  }
  return () => {
    for (const remove of removals) remove();
  };
}
