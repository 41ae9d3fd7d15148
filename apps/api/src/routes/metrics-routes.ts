import type { FastifyPluginAsync } from 'fastify';
import type { RerankMetrics } from '@rerank-pool/telemetry';

/**
 * Prometheus text exposition. Public like the probes: Prometheus scrapes without an API key,
 * and the series hold counts and timings, never request content.
 */
export const metricsRoutes: FastifyPluginAsync<{ metrics: RerankMetrics }> = async (app, { metrics }) => {
  app.get('/metrics', {
    config: { public: true },
    // A scrape every few seconds would drown the request log at info.
    logLevel: 'warn',
    schema: { hide: true },
    handler: async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()),
  });
};
