import type { FastifyPluginAsync } from 'fastify';
import { rerankSignals, teiInfoSchema, teiRerankRequestSchema, teiRerankResponseSchema } from '@rerank-pool/contracts';
import type { TeiErrorBody, TeiInfo, TeiRank, TeiRerankRequest } from '@rerank-pool/contracts';
import type { WorkerHeartbeat } from '@rerank-pool/queue';
import { clientGone } from '../client-gone.js';
import { packageVersion } from '@rerank-pool/config';
import { teiErrorResponses, traceCarrier } from '../route-deps.js';
import type { RouteDeps } from '../route-deps.js';
import { TeiError } from '../tei-errors.js';

/** A health check right after start waits this long for connections being made (as /readyz). */
const CONNECT_WAIT_MS = 1000;

type InfoFacts = Pick<TeiInfo, 'model_sha' | 'model_dtype' | 'model_type' | 'max_input_length'> & { tokenizationWorkers?: number };

/** What a worker's heartbeat says of its model (rerank-worker.ts publishes these fields). */
function factsFrom(heartbeat: WorkerHeartbeat | undefined): InfoFacts {
  const labels = heartbeat?.labels as { id2label: Record<string, string>; label2id: Record<string, number> } | undefined;
  return {
    model_sha: typeof heartbeat?.revision === 'string' ? heartbeat.revision : null,
    model_dtype: typeof heartbeat?.dtype === 'string' ? heartbeat.dtype : null,
    model_type: heartbeat ? { reranker: labels && typeof labels === 'object' ? labels : { id2label: {}, label2id: {} } } : null,
    max_input_length: typeof heartbeat?.maxLength === 'number' ? heartbeat.maxLength : null,
    tokenizationWorkers: typeof heartbeat?.threads === 'number' ? heartbeat.threads : undefined,
  };
}

/**
 * Hugging Face TEI compatible `POST /rerank` (best first, `raw_scores` gives logits), `GET /info`
 * and `GET /health`, with TEI's error body and statuses (`config.tei`, see tei-errors.ts).
 * TEI's sources: router/src/http/server.rs (`rerank`, `get_model_info`, `health`) and types.rs.
 */
export const teiRoutes: FastifyPluginAsync<RouteDeps> = async (app, { config, registry, service, metrics }) => {
  app.post<{ Body: TeiRerankRequest }>('/rerank', {
    config: { tei: true },
    schema: {
      summary: 'Rerank texts for a query (Hugging Face TEI compatible)',
      tags: ['rerank'],
      body: teiRerankRequestSchema,
      response: { 200: teiRerankResponseSchema, ...teiErrorResponses },
    },
    handler: async (request, reply): Promise<TeiRank[]> => {
      const body = request.body;
      // TEI's own checks, in its words and order (server.rs `rerank`).
      if (body.texts.length === 0) throw new TeiError('Empty', '`texts` cannot be empty', 'texts');
      if (body.texts.length > config.maxDocuments) {
        throw new TeiError('Validation', `batch size ${body.texts.length} > maximum allowed batch size ${config.maxDocuments}`, 'texts');
      }
      const { result } = await service.rerank(
        {
          query: body.query,
          documents: body.texts,
          truncate: body.truncate ?? false,
          // TEI's default is Right (keep the beginning); its aliases are the lower-case names.
          truncationDirection: body.truncation_direction?.toLowerCase() === 'left' ? 'left' : 'right',
          maxChunksPerDoc: body.max_chunks_per_doc,
          priority: 'interactive',
        },
        request.tenant,
        traceCarrier(request.headers),
        clientGone(reply),
      );
      // TEI's response has no meta to carry them, but /metrics counts every synchronous rerank.
      metrics.observeSignals(result.model, rerankSignals(result.scores, result.truncated));
      const scores = body.raw_scores ? result.logits : result.scores;
      return scores
        .map((score, index): TeiRank => {
          const rank: TeiRank = body.return_text ? { index, score, text: body.texts[index] } : { index, score };
          const chunk = result.chunks?.[index];
          if (chunk) rank.chunk = { index: chunk.index, count: chunk.count, start_token: chunk.startToken };
          return rank;
        })
        .sort((a, b) => b.score - a.score);
    },
  });

  app.get('/info', {
    config: { public: true, tei: true },
    schema: { summary: 'The default model and the limits of this server (Hugging Face TEI compatible)', tags: ['health'], response: { 200: teiInfoSchema, ...teiErrorResponses } },
    handler: async (): Promise<TeiInfo> => {
      const modelId = registry.modelIds[0]!;
      // The API holds no model: what it knows of one comes from a live worker's heartbeat.
      const workers = await registry.liveWorkers(modelId);
      const facts = factsFrom(workers.find((worker) => typeof worker.maxLength === 'number') ?? workers[0]);
      return {
        model_id: modelId,
        model_sha: facts.model_sha,
        model_dtype: facts.model_dtype,
        served_model_name: modelId,
        model_type: facts.model_type,
        max_concurrent_requests: config.maxQueueDepth,
        max_input_length: facts.max_input_length,
        max_batch_tokens: config.maxBatchTokens,
        // Batches are bounded by tokens alone, as TEI's default (None).
        max_batch_requests: null,
        max_client_batch_size: config.maxDocuments,
        auto_truncate: false,
        tokenization_workers: facts.tokenizationWorkers ?? config.poolThreads,
        version: packageVersion(),
        sha: null,
        docker_label: null,
      };
    },
  });

  app.get('/health', {
    config: { public: true, tei: true },
    schema: { summary: 'TEI health: 200 when Redis answers and the default model has a live worker, else 503', tags: ['health'], response: { 200: { type: 'null' }, ...teiErrorResponses } },
    handler: async (_request, reply): Promise<TeiErrorBody | undefined> => {
      if (await defaultModelServed()) return reply.status(200).send();
      // TEI's body for an unhealthy server, exactly (server.rs `health`).
      return reply.status(503).send({ error: 'unhealthy', error_type: 'Unhealthy' });
    },
  });

  async function defaultModelServed(): Promise<boolean> {
    if ((await registry.disconnected(CONNECT_WAIT_MS)).length > 0) return false;
    try {
      await registry.ping();
      return (await registry.liveWorkers(registry.modelIds[0]!)).length > 0;
    } catch {
      return false;
    }
  }
};
