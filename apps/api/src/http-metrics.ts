import type { FastifyInstance } from 'fastify';
import type { RerankMetrics } from '@rerank-pool/telemetry';
import { toRerankPoolError } from './error-handler.js';
import type { ModelRegistry } from './model-registry.js';

/**
 * Request latency by route pattern and status, errors by code, and the queue depth of every
 * served model (read from Redis when `/metrics` is scraped) into `metrics`.
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
  app.addHook('onClose', async () => removeSource());
}
