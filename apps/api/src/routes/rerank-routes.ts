import type { FastifyPluginAsync } from 'fastify';
import { rerankBody, rerankResponseSchema, rerankSignals, rerankV1RequestSchema, rerankV2RequestSchema } from '@rerank-pool/contracts';
import type { RerankRequest, RerankResponse } from '@rerank-pool/contracts';
import { inputFromCohere, toJobPriority } from '../rerank-input.js';
import { clientGone } from '../client-gone.js';
import { errorResponses, traceCarrier } from '../route-deps.js';
import type { RouteDeps } from '../route-deps.js';

/** Cohere-compatible synchronous rerank, v1 (string or {text} documents) and v2 (strings). */
export const rerankRoutes: FastifyPluginAsync<RouteDeps> = async (app, { service, metrics }) => {
  for (const version of ['1', '2'] as const) {
    app.post<{ Body: RerankRequest }>(`/v${version}/rerank`, {
      schema: {
        summary: `Rerank documents for a query (Cohere v${version} compatible)`,
        tags: ['rerank'],
        body: version === '1' ? rerankV1RequestSchema : rerankV2RequestSchema,
        response: { 200: rerankResponseSchema, ...errorResponses },
      },
      handler: async (request, reply): Promise<RerankResponse> => {
        const body = request.body;
        const input = inputFromCohere(body, toJobPriority(body.priority, 'interactive'), { timeoutMs: body.timeout_ms });
        // A client that disconnects cancels its job (README, Quotas and cancellation).
        const { jobId, result, totalMs } = await service.rerank(input, request.tenant, traceCarrier(request.headers), clientGone(reply));
        // Observed here, on the result as answered, whatever part of it a worker computed; a
        // worker observes only the jobs it finishes for nobody waiting (async jobs, batch lines).
        const signals = rerankSignals(result.scores, result.truncated);
        metrics.observeSignals(result.model, signals);
        const { results, meta } = rerankBody(result, {
          topN: body.top_n,
          // As sent: an object document keeps every key it came with.
          documents: body.return_documents ? body.documents : undefined,
          totalMs,
          signals: body.return_signals ? signals : undefined,
        });
        return { id: jobId, results, meta: { api_version: { version }, ...meta } };
      },
    });
  }
};
