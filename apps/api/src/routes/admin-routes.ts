import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';
import { Errors, isRerankPoolError } from '@rerank-pool/contracts';
import { closeSharedConnection, lineQueueNameForModel, webhookQueueNameForModel, whenReady } from '@rerank-pool/queue';
import { openRedis, redisTarget, requestRedisOptions } from '@rerank-pool/redis-connection';
import { createAuthenticator } from '../authenticator.js';
import { errorBody } from '../error-handler.js';
import type { RouteDeps } from '../route-deps.js';

const ADMIN_PATH = '/admin/queues';
/** With API_KEYS set, only this tenant's key opens the dashboard (it can retry and delete jobs). */
const ADMIN_TENANT = 'admin';

/** `Basic base64(user:key)` becomes `Bearer key`: browsers can send Basic, never Bearer. */
function asBearer(authorization: string | undefined): string | undefined {
  const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!basic) return authorization;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  return `Bearer ${decoded.slice(decoded.indexOf(':') + 1)}`;
}

/**
 * Whether the dashboard is served: ADMIN_DASHBOARD when set, else only with API_KEYS. Unlike the
 * rest of the API it can pause every queue (scoring stops for all), so a deployment that set no
 * keys does not get it open by default.
 */
export function adminDashboardEnabled({ adminDashboard, apiKeys }: Pick<RouteDeps['config'], 'adminDashboard' | 'apiKeys'>): boolean {
  return adminDashboard === undefined ? (apiKeys?.length ?? 0) > 0 : adminDashboard === 'on';
}

/**
 * bull-board at /admin/queues over every model queue and its webhook queue. With API_KEYS set it
 * takes the `admin` tenant's key, as a Bearer token (scripts) or as the password of HTTP Basic
 * auth (browsers prompt for it). Without API_KEYS it is off (404) unless ADMIN_DASHBOARD=on, and
 * then open to anyone who reaches the port.
 */
export const adminRoutes: FastifyPluginAsync<RouteDeps> = async (app, { config, registry }) => {
  if (!adminDashboardEnabled(config)) return;
  if (!config.apiKeys?.length) app.log.warn(`ADMIN_DASHBOARD=on without API_KEYS: ${ADMIN_PATH} can pause, retry and delete jobs without any credentials`);
  // The model queues are the registry's (and closed by it); only the batch line and webhook queues are opened here.
  const redis = openRedis(requestRedisOptions(redisTarget(config)));
  // Connection errors reach the dashboard's own requests; ioredis reconnects meanwhile.
  redis.on('error', () => {});
  registry.watchConnection('dashboard', (waitMs) => whenReady(redis, waitMs));
  const opened = registry.modelIds.flatMap((model) =>
    [lineQueueNameForModel(model), webhookQueueNameForModel(model)].map((name) => new Queue(name, { connection: redis, prefix: config.queuePrefix })),
  );
  for (const queue of opened) queue.on('error', () => {});
  app.addHook('onClose', async () => {
    await closeSharedConnection(redis, opened);
  });
  const queues = [...registry.modelIds.map((model) => registry.queueFor(model).bullQueue), ...opened];

  if (config.apiKeys && config.apiKeys.length > 0) {
    const authenticate = createAuthenticator(config.apiKeys);
    // The app-wide hook knows only Bearer keys; this scope checks its own credentials instead.
    app.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    app.addHook('onRequest', async (request, reply) => {
      try {
        request.tenant = authenticate(asBearer(request.headers.authorization));
        if (request.tenant !== ADMIN_TENANT) throw Errors.forbidden(`the queue dashboard needs the API key of tenant "${ADMIN_TENANT}"`);
      } catch (error) {
        if (!isRerankPoolError(error)) throw error;
        // Answered here: bull-board's error handler, which governs this scope, would make it a 500.
        if (error.code === 'unauthorized') reply.header('www-authenticate', 'Basic realm="rerank-pool admin", charset="UTF-8"');
        return reply.status(error.statusCode).send(errorBody(error));
      }
    });
  }

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(ADMIN_PATH);
  createBullBoard({ queues: queues.map((queue) => new BullMQAdapter(queue)), serverAdapter });
  await app.register(serverAdapter.registerPlugin(), { prefix: ADMIN_PATH });
};
