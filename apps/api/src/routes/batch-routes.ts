import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  BATCH_NDJSON_TYPE,
  batchAcceptedSchema,
  batchLineSchema,
  batchParamsSchema,
  batchQuerySchema,
  batchStatusSchema,
  Errors,
} from '@rerank-pool/contracts';
import type { BatchAccepted, BatchStatusBody, RerankPoolError } from '@rerank-pool/contracts';
import { BatchQueue, redisOptionsFromUrl, toBatchStatusBody } from '@rerank-pool/queue';
import type { BatchUpload } from '@rerank-pool/queue';
import { BatchLineReader } from '../batch-line-reader.js';
import type { LineValidator, RawBatchLine } from '../batch-line-reader.js';
import { ndjsonLines } from '../ndjson-lines.js';
import { errorResponses, traceCarrier } from '../route-deps.js';
import type { RouteDeps } from '../route-deps.js';

interface BatchParams {
  id: string;
}

const IDEMPOTENCY_HEADER = 'idempotency-key';

async function* arrayLines(values: readonly unknown[]): AsyncGenerator<RawBatchLine> {
  for (const [index, value] of values.entries()) yield { number: index + 1, value };
}

async function* ndjsonText(lines: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const line of lines) yield `${line}\n`;
}

/**
 * Offline batches: upload (JSON array, or NDJSON streamed line by line), status, results in
 * input order, cancel. Lines are validated like `/v1/rerank` and run at batch priority.
 */
export const batchRoutes: FastifyPluginAsync<RouteDeps> = async (app, { config, registry, service }) => {
  const batches = new BatchQueue({
    connection: redisOptionsFromUrl(config.redisUrl),
    prefix: config.queuePrefix,
    models: registry.modelIds,
    retentionSeconds: config.jobRetentionSeconds,
  });
  batches.on('error', (error) => app.log.warn({ err: error }, 'batch tracker: %s', error.message));
  batches.startTracking();
  app.addHook('onClose', () => batches.close());

  // The raw request stream goes to the handler, which parses and enqueues line by line while
  // the upload is still arriving; Fastify's bodyLimit does not apply (each line has its own).
  app.addContentTypeParser(BATCH_NDJSON_TYPE, (_request, payload, done) => done(null, payload));

  /** Reads the upload into the batch; on failure the lease is released so a re-sent upload resumes. */
  async function feed(request: FastifyRequest, upload: BatchUpload, lines: AsyncIterable<RawBatchLine>, idempotencyKey?: string): Promise<void> {
    const validate = request.compileValidationSchema(batchLineSchema, 'body') as LineValidator;
    const reader = new BatchLineReader(validate, service, request.tenant, config.maxBodyBytes, traceCarrier(request.headers));
    let index = 0;
    try {
      for await (const line of lines) {
        // A resumed upload re-sends the same content: lines the batch holds already are skipped.
        if (index++ < upload.resumeFrom) continue;
        await upload.append(reader.read(line));
      }
      await upload.seal();
    } catch (error) {
      await upload.abort().catch((abortError: Error) => request.log.warn({ err: abortError }, 'releasing a failed upload'));
      // Without a key nobody can resume it, and an over-long batch would fail again: stop it.
      if (idempotencyKey === undefined || (error as RerankPoolError).code === 'payload_too_large') {
        await batches.cancel(upload.batchId, request.tenant).catch((cancelError: Error) => request.log.warn({ err: cancelError }, 'cancelling a failed upload'));
      }
      throw error;
    }
  }

  app.post<{ Querystring: { idempotency_key?: string }; Body: unknown }>('/v1/batches', {
    schema: {
      summary: 'Submit many rerank requests: a JSON array, or NDJSON (one request per line) streamed',
      tags: ['batches'],
      querystring: batchQuerySchema,
      headers: { type: 'object', properties: { [IDEMPOTENCY_HEADER]: batchQuerySchema.properties.idempotency_key } },
      body: {
        content: {
          'application/json': { schema: { type: 'array', description: 'Rerank requests {id?, query, documents, model?, top_n?, return_documents?, max_tokens_per_doc?}' } },
          [BATCH_NDJSON_TYPE]: { schema: { description: 'One rerank request per line, as in the JSON array' } },
        },
      },
      response: { 202: batchAcceptedSchema, ...errorResponses },
    },
    handler: async (request, reply): Promise<BatchAccepted> => {
      const header = request.headers[IDEMPOTENCY_HEADER];
      const idempotencyKey = request.query.idempotency_key ?? (typeof header === 'string' ? header : undefined);
      const body = request.body;
      let lines: AsyncIterable<RawBatchLine>;
      if (Array.isArray(body)) lines = arrayLines(body);
      else if (body instanceof Readable) lines = ndjsonLines(body, config.maxBodyBytes);
      else throw Errors.invalidRequest(`the body must be a JSON array of rerank requests, or NDJSON with content-type ${BATCH_NDJSON_TYPE}`, 'body');
      const { batchId, upload } = await batches.open(request.tenant, idempotencyKey);
      // Without an upload the key named a complete batch: its id is the answer, the body unread.
      if (upload) await feed(request, upload, lines, idempotencyKey);
      const state = await batches.status(batchId, request.tenant);
      reply.status(202);
      return {
        id: batchId,
        status: state.status,
        total: state.total,
        status_url: `/v1/batches/${batchId}`,
        results_url: `/v1/batches/${batchId}/results`,
      };
    },
  });

  app.get<{ Params: BatchParams }>('/v1/batches/:id', {
    schema: {
      summary: "A batch's progress: lines completed, failed and cancelled out of total",
      tags: ['batches'],
      params: batchParamsSchema,
      response: { 200: batchStatusSchema, ...errorResponses },
    },
    handler: async (request): Promise<BatchStatusBody> => toBatchStatusBody(await batches.status(request.params.id, request.tenant)),
  });

  app.get<{ Params: BatchParams }>('/v1/batches/:id/results', {
    schema: {
      summary: 'NDJSON, one line per request in input order: {id, index, results, meta} or {id, index, error}; 409 until the batch finished',
      tags: ['batches'],
      params: batchParamsSchema,
      response: errorResponses,
    },
    handler: async (request, reply) => {
      const lines = await batches.results(request.params.id, request.tenant);
      reply.type(BATCH_NDJSON_TYPE);
      return reply.send(Readable.from(ndjsonText(lines)));
    },
  });

  app.delete<{ Params: BatchParams }>('/v1/batches/:id', {
    schema: {
      summary: 'Cancel the lines that have not started; running lines finish',
      tags: ['batches'],
      params: batchParamsSchema,
      response: { 200: batchStatusSchema, ...errorResponses },
    },
    handler: async (request): Promise<BatchStatusBody> => toBatchStatusBody(await batches.cancel(request.params.id, request.tenant)),
  });
};
