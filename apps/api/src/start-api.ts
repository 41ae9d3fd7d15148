import type { FastifyInstance } from 'fastify';
import type { Config } from '@rerank-pool/config';
import { buildApi } from './build-api.js';
import type { BuildApiOptions } from './build-api.js';

/** Builds the API and listens on HOST:PORT; the caller owns shutdown (`app.close()`). */
export async function startApi(config: Config, options: Omit<BuildApiOptions, 'config'> = {}): Promise<FastifyInstance> {
  const app = await buildApi({ ...options, config });
  await app.listen({ host: config.host, port: config.port });
  return app;
}
