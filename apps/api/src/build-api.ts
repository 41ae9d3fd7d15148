import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import type { Config } from '@rerank-pool/config';
import { Errors } from '@rerank-pool/contracts';
import { openScoreCache, scoreCacheTarget } from '@rerank-pool/score-cache';
import { createLogger, processMetrics } from '@rerank-pool/telemetry';
import type { DestinationStream, RerankMetrics } from '@rerank-pool/telemetry';
import { createAuthenticator } from './authenticator.js';
import { handleError } from './error-handler.js';
import { installBoundedClose } from './bounded-close.js';
import { jsonLimitsFor } from './bounded-json.js';
import { answerClientError, answerFrameworkError, MAX_PARAM_LENGTH } from './framework-errors.js';
import { installJsonBodyParser } from './json-body-parser.js';
import { httpServerOptions, installHttpLimits } from './http-limits.js';
import { installHttpMetrics } from './http-metrics.js';
import { installHttpTracing } from './http-tracing.js';
import { ModelRegistry } from './model-registry.js';
import { RerankService } from './rerank-service.js';
import { requestIdFor } from './request-id.js';
import { requestLogSerializers, withRequestLogSerializers } from './request-log.js';
import { installTenantRateLimit } from './tenant-rate-limit.js';
import type { RouteDeps } from './route-deps.js';
import { adminRoutes } from './routes/admin-routes.js';
import { batchRoutes } from './routes/batch-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { metricsRoutes } from './routes/metrics-routes.js';
import { modelRoutes } from './routes/model-routes.js';
import { rerankRoutes } from './routes/rerank-routes.js';
import { teiRoutes } from './routes/tei-routes.js';

export interface BuildApiOptions {
  config: Config;
  /** Model refs (directories or Hub ids) to serve instead of RERANK_MODELS. */
  models?: string[];
  /** Fastify's logger option; default: pino JSON at LOG_LEVEL (`createLogger` of @rerank-pool/telemetry). */
  logger?: FastifyServerOptions['logger'];
  /** Where the default logger writes. Default stdout. */
  logDestination?: DestinationStream;
  /** Where request, error and queue metrics go and `/metrics` reads. Default: the process's registry. */
  metrics?: RerankMetrics;
}

/** The API, ready to `listen` or `inject`; closing it closes its Redis connections. */
export async function buildApi({ config, models, logger, logDestination, metrics = processMetrics() }: BuildApiOptions): Promise<FastifyInstance> {
  // Typed as Fastify's base logger so the app keeps the FastifyInstance type routes are written for.
  const loggerInstance: FastifyBaseLogger | undefined =
    logger === undefined
      ? createLogger({ level: config.logLevel, name: 'api', destination: logDestination, traceIds: false }).child({}, { serializers: requestLogSerializers })
      : undefined;
  const app = Fastify({
    ...(loggerInstance ? { loggerInstance } : { logger: withRequestLogSerializers(logger) }),
    // Slow heads, stalled bodies and idle keep-alive connections are cut (see installHttpLimits).
    ...httpServerOptions(),
    // Every line of a request carries its id: the caller's X-Request-Id or a UUID (unique across replicas).
    genReqId: requestIdFor,
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    bodyLimit: config.maxBodyBytes,
    // Wrong types are a 400, not silently coerced ("5" is not a top_n); unknown fields are a 400
    // where a schema closes its object, not silently removed (Fastify's default).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors found before any route runs, by the router and by Node's HTTP parser, in the same shape.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  installHttpLimits(app, config);
  installJsonBodyParser(app, { limits: jsonLimitsFor(config), bodyLimit: config.maxBodyBytes });
  const registry = new ModelRegistry(config, models ?? config.rerankModels);
  installBoundedClose(app, registry);
  app.addHook('onClose', () => registry.close());
  installHttpTracing(app);
  installHttpMetrics(app, metrics, registry);
  const cacheTarget = scoreCacheTarget(config);
  const scoreCache =
    cacheTarget === undefined
      ? undefined
      : await openScoreCache({
          connection: cacheTarget,
          prefix: config.queuePrefix,
          ttlSeconds: config.scoreCacheTtlSeconds,
          queue: registry.connection,
          warn: (message) => app.log.warn(message),
          onError: () => metrics.cacheErrors.inc(),
        }).catch(async (error: unknown) => {
          await app.close();
          throw error;
        });
  if (scoreCache) app.addHook('onClose', () => scoreCache.close());
  const deps: RouteDeps = { config, registry, service: new RerankService(registry, config, { scoreCache, metrics }), metrics };

  const authenticate = createAuthenticator(config.apiKeys);
  app.decorateRequest('tenant', '');
  app.addHook('onRequest', async (request) => {
    if (!request.routeOptions.config.public) request.tenant = authenticate(request.headers.authorization);
  });
  // After the auth hook, before the routes: its check is keyed by request.tenant.
  await installTenantRateLimit(app, config, registry);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request) => {
    throw Errors.notFound(`no route ${request.method} ${request.url}`);
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'rerank-pool', version: '0.1.0', description: 'Cross-encoder reranking: Cohere- and TEI-compatible' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(healthRoutes, deps);
  await app.register(rerankRoutes, deps);
  await app.register(teiRoutes, deps);
  await app.register(jobRoutes, deps);
  await app.register(modelRoutes, deps);
  await app.register(batchRoutes, deps);
  await app.register(metricsRoutes, { metrics });
  await app.register(adminRoutes, deps);
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  return app;
}
