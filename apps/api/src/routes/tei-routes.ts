import type { FastifyPluginAsync } from 'fastify';
import { teiRerankRequestSchema, teiRerankResponseSchema } from '@rerank-pool/contracts';
import type { TeiRank, TeiRerankRequest } from '@rerank-pool/contracts';
import { clientGone } from '../client-gone.js';
import { errorResponses, traceCarrier } from '../route-deps.js';
import type { RouteDeps } from '../route-deps.js';

/** Hugging Face TEI compatible `POST /rerank`: best first, `raw_scores` gives logits. */
export const teiRoutes: FastifyPluginAsync<RouteDeps> = async (app, { service }) => {
  app.post<{ Body: TeiRerankRequest }>('/rerank', {
    schema: {
      summary: 'Rerank texts for a query (Hugging Face TEI compatible)',
      tags: ['rerank'],
      body: teiRerankRequestSchema,
      response: { 200: teiRerankResponseSchema, ...errorResponses },
    },
    handler: async (request, reply): Promise<TeiRank[]> => {
      const body = request.body;
      const { result } = await service.rerank(
        { query: body.query, documents: body.texts, truncate: body.truncate ?? false, priority: 'interactive' },
        request.tenant,
        traceCarrier(request.headers),
        clientGone(reply),
      );
      const scores = body.raw_scores ? result.logits : result.scores;
      return scores
        .map((score, index): TeiRank => (body.return_text ? { index, score, text: body.texts[index] } : { index, score }))
        .sort((a, b) => b.score - a.score);
    },
  });
};
