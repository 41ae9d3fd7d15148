import type { FastifyInstance } from 'fastify';
import type { RerankMetrics } from '@rerank-pool/telemetry';
import { toRerankPoolError } from './error-handler.js';
import type { ModelRegistry } from './model-registry.js';

const REDIS_PROBE_TIMEOUT_MS = 1000;

/**
 * Request latency by route pattern and status, errors by code, and the queue depth of every
 * served model and the reachability of Redis (read when `/metrics` is scraped) into `metrics`.
 */
export function installHttpMetrics(app: FastifyInstance, metrics: RerankMetrics, registry: ModelRegistry): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.requestDuration.observe(
      // The pattern, never the raw URL: unknown paths would otherwise mint a series each.
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  // Runs before the error handler with the same error, so the code is the one the client gets.
  app.addHook('onError', async (_request, _reply, error) => {
    metrics.errors.inc({ code: toRerankPoolError(error).code });
  });
  const removeSource = metrics.addQueueDepthSource(() => registry.queueDepths());
  // Within the scrape's own bound: an unreachable Redis must read as 0, not stall /metrics.
  const removeProbe = metrics.operations.addRedisProbe(() => registry.ping(REDIS_PROBE_TIMEOUT_MS).then(() => true));
  app.addHook('onClose', async () => {
    removeSource();
    removeProbe();
  });
}
