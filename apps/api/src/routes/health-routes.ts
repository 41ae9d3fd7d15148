import type { FastifyPluginAsync } from 'fastify';
import { healthSchema } from '@rerank-pool/contracts';
import type { HealthBody } from '@rerank-pool/contracts';
import type { RouteDeps } from '../route-deps.js';

/** A readiness probe right after start waits this long for connections being made. */
const CONNECT_WAIT_MS = 1000;

/**
 * Liveness (the process answers) and readiness: every Redis connection of the process is up,
 * Redis answers, and every model has a live worker.
 */
export const healthRoutes: FastifyPluginAsync<RouteDeps> = async (app, { registry }) => {
  app.get('/healthz', {
    config: { public: true },
    schema: { summary: 'Liveness', tags: ['health'], response: { 200: healthSchema } },
    handler: async (): Promise<HealthBody> => ({ status: 'ok' }),
  });

  app.get('/readyz', {
    config: { public: true },
    schema: { summary: 'Readiness: every Redis connection is up and each model has a worker heartbeat', tags: ['health'], response: { 200: healthSchema, 503: healthSchema } },
    handler: async (_request, reply): Promise<HealthBody> => {
      const reasons = (await registry.disconnected(CONNECT_WAIT_MS)).map((name) => `redis: the ${name} connection is down`);
      if (reasons.length === 0) {
        try {
          await registry.ping();
          const counts = await Promise.all(registry.modelIds.map(async (id) => [id, (await registry.liveWorkers(id)).length] as const));
          for (const [id, workers] of counts) if (workers === 0) reasons.push(`no live worker for model ${id}`);
        } catch (error) {
          reasons.push(`redis: ${(error as Error).message}`);
        }
      }
      if (reasons.length === 0) return { status: 'ready' };
      reply.status(503);
      return { status: 'not_ready', reasons };
    },
  });
};
