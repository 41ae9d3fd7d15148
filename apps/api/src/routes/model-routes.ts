import type { FastifyPluginAsync } from 'fastify';
import { modelListSchema } from '@rerank-pool/contracts';
import type { ModelInfo, ModelList } from '@rerank-pool/contracts';
import { errorResponses } from '../route-deps.js';
import type { RouteDeps } from '../route-deps.js';

/** Served models with their aliases and live workers; max_length comes from the workers' heartbeats. */
export const modelRoutes: FastifyPluginAsync<RouteDeps> = async (app, { registry }) => {
  app.get('/v1/models', {
    schema: { summary: 'Models served here (the first is the default)', tags: ['models'], response: { 200: modelListSchema, ...errorResponses } },
    handler: async (): Promise<ModelList> => {
      const data = await Promise.all(
        registry.modelIds.map(async (id): Promise<ModelInfo> => {
          const workers = await registry.liveWorkers(id);
          const maxLength = workers.find((worker) => typeof worker.maxLength === 'number')?.maxLength;
          const aliases = registry.aliasesOf(id);
          return maxLength === undefined ? { id, aliases, workers: workers.length } : { id, aliases, max_length: maxLength, workers: workers.length };
        }),
      );
      return { data };
    },
  });
};
