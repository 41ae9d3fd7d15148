import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Config } from '@rerank-pool/config';
import { Errors } from '@rerank-pool/contracts';
import { whenReady } from '@rerank-pool/queue';
import { closeRedis, openRedis, redisTarget, requestRedisOptions } from '@rerank-pool/redis-connection';
import type { ModelRegistry } from './model-registry.js';

/** How long the API's start waits for the limiter's connection; unconnected, it lets requests through. */
const CONNECT_WAIT_MS = 1000;

/**
 * TENANT_RATE_LIMIT: requests per tenant per window, counted in Redis (@fastify/rate-limit's
 * store: one INCR + PEXPIRE script per request) so every API replica shares one count. Register
 * it after the auth hook and before the routes: its check is a route-level onRequest hook, and
 * those run after the instance's own, so `request.tenant` is known when the key is computed (a
 * request without a valid key never gets this far: 401/403).
 *
 * Public routes (health, readiness, metrics, the OpenAPI document) are not counted.
 *
 * While Redis is unreachable the limiter lets requests through (fail open): its connection
 * queues no commands (`enableOfflineQueue: false`), so the check fails at once and is skipped,
 * and the request then meets the outage where it needs Redis and gets the same fast 503 +
 * Retry-After as every other request. Failing closed would only turn that 503 into a 429. So that
 * the first requests of a healthy start are counted, `ready()` (and so `listen`) waits for the
 * connection briefly; readiness counts it too.
 */
export async function installTenantRateLimit(app: FastifyInstance, config: Config, registry: ModelRegistry): Promise<void> {
  const { tenantRateLimit: max, tenantRateLimitWindowMs: windowMs } = config;
  if (max === 0) return;
  const redis = openRedis(requestRedisOptions(redisTarget(config)), { enableOfflineQueue: false });
  // ioredis reconnects by itself; a failed check is skipped (skipOnError).
  redis.on('error', () => {});
  registry.watchConnection('rate limit', (waitMs) => whenReady(redis, waitMs));
  app.addHook('onReady', async () => {
    await whenReady(redis, CONNECT_WAIT_MS);
  });
  app.addHook('onClose', () => closeRedis(redis));
  await app.register(rateLimit, {
    global: true,
    max,
    timeWindow: windowMs,
    redis,
    nameSpace: `${config.queuePrefix}:rate-limit:`,
    keyGenerator: (request) => request.tenant,
    allowList: (request) => request.routeOptions.config.public === true,
    skipOnError: true,
    errorResponseBuilder: (request, { max: limit, ttl, after }) =>
      Errors.overloaded(
        `tenant ${request.tenant} made more than ${limit} requests within ${windowMs} ms (TENANT_RATE_LIMIT ${limit}, TENANT_RATE_LIMIT_WINDOW_MS ${windowMs}); retry in ${after}`,
        Math.max(1, Math.ceil(ttl / 1000)),
      ),
  });
}
