import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import type { Config } from '@rerank-pool/config';
import { Errors } from '@rerank-pool/contracts';
import { createAuthenticator } from './authenticator.js';
import { handleError } from './error-handler.js';
import { ModelRegistry } from './model-registry.js';
import { RerankService } from './rerank-service.js';
import type { RouteDeps } from './route-deps.js';
import { batchRoutes } from './routes/batch-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { modelRoutes } from './routes/model-routes.js';
import { rerankRoutes } from './routes/rerank-routes.js';
import { teiRoutes } from './routes/tei-routes.js';

export interface BuildApiOptions {
  config: Config;
  /** Model refs (directories or Hub ids) to serve instead of RERANK_MODELS. */
  models?: string[];
  /** Fastify's logger option; default: pino at LOG_LEVEL. */
  logger?: FastifyServerOptions['logger'];
}

/** The API, ready to `listen` or `inject`; closing it closes its Redis connections. */
export async function buildApi({ config, models, logger }: BuildApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger ?? { level: config.logLevel },
    bodyLimit: config.maxBodyBytes,
    // Wrong types are a 400, not silently coerced ("5" is not a top_n).
    ajv: { customOptions: { coerceTypes: false } },
  });
  const registry = new ModelRegistry(config, models ?? config.rerankModels);
  app.addHook('onClose', () => registry.close());
  const deps: RouteDeps = { config, registry, service: new RerankService(registry, config) };

  const authenticate = createAuthenticator(config.apiKeys);
  app.decorateRequest('tenant', '');
  app.addHook('onRequest', async (request) => {
    if (!request.routeOptions.config.public) request.tenant = authenticate(request.headers.authorization);
  });
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
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  return app;
}
