import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { BatchService, splitLines, toBatchStatusBody } from '@rerank-pool/batches';
import type { BatchUploadWriter, RawLine } from '@rerank-pool/batches';
import {
  BATCH_NDJSON_TYPE,
  batchAcceptedSchema,
  batchLineSchema,
  batchParamsSchema,
  batchQuerySchema,
  batchReferenceSchema,
  batchStatusSchema,
  Errors,
} from '@rerank-pool/contracts';
import type { BatchAccepted, BatchReference, BatchStatusBody, RerankPoolError } from '@rerank-pool/contracts';
import { openObjectStore } from '@rerank-pool/object-store';
import { redisTarget } from '@rerank-pool/redis-connection';
import { injectTraceCarrier } from '@rerank-pool/telemetry';
import { BatchLineReader, isObject } from '../batch-line-reader.js';
import { jsonLimitsFor } from '../bounded-json.js';
import { batchJsonBody, JsonArrayLines } from '../json-array-lines.js';
import { installJsonBodyParser } from '../json-body-parser.js';
import type { LineValidator } from '../batch-line-reader.js';
import { fromValidation } from '../error-handler.js';
import { errorResponses, traceCarrier } from '../route-deps.js';
import type { RouteDeps } from '../route-deps.js';
import { installBatchGauges } from '../batch-gauges.js';

interface BatchParams {
  id: string;
}

const IDEMPOTENCY_HEADER = 'idempotency-key';

/**
 * Offline batches: upload (JSON array, or NDJSON streamed line by line) into the batch store,
 * or by reference to an input URL; status, results in input order, cancel. Lines are validated
 * like `/v1/rerank` as the batch runs, and run at batch priority.
 */
export const batchRoutes: FastifyPluginAsync<RouteDeps> = async (app, { config, registry, service, metrics }) => {
  const store = openObjectStore(config.batchStoreUrl);
  const jsonLimits = jsonLimitsFor(config);
  let lineValidator: LineValidator | undefined;
  const reader = new BatchLineReader(
    () => (lineValidator ??= app.validatorCompiler!({ schema: batchLineSchema, method: 'POST', url: '/v1/batches', httpPart: 'body' }) as LineValidator),
    service,
    config.maxBodyBytes,
    jsonLimits,
  );
  const batches = new BatchService({
    connection: redisTarget(config),
    store,
    models: registry.modelIds,
    parser: reader,
    prefix: config.queuePrefix,
    retentionSeconds: config.jobRetentionSeconds,
    windowLines: config.batchWindowLines,
    windowBytes: config.batchWindowBytes,
    maxLines: config.batchMaxLines,
    uploadLeaseMs: config.batchUploadLeaseMs,
    waitReplicas: config.redisWaitReplicas,
    waitTimeoutMs: config.redisWaitTimeoutMs,
    maxLineBytes: config.maxBodyBytes,
    urlPrefixes: config.batchUrlPrefixes,
  });
  batches.on('warning', (message, error) => app.log.warn({ err: error }, 'batches: %s', message));
  batches.startDriving();
  installBatchGauges(app, metrics, batches);
  registry.watchConnection('batches', (waitMs) => batches.ready(waitMs));
  app.addHook('onClose', async () => {
    await batches.close();
    await store.close();
  });

  // The raw request stream goes to the handler, which stores it line by line while the upload
  // is still arriving; Fastify's bodyLimit does not apply (each line has its own).
  app.addContentTypeParser(BATCH_NDJSON_TYPE, (_request, payload, done) => done(null, payload));
  // A JSON array is split into lines unparsed, each then held to the limits of one request body.
  installJsonBodyParser(app, {
    limits: { ...jsonLimits, maxValues: Number.POSITIVE_INFINITY },
    outerLevels: 1,
    bodyLimit: config.maxBodyBytes,
    finish: (raw) => batchJsonBody(raw, jsonLimits),
  });

  /**
   * Stores the upload. On failure the lease is released so the same upload sent again resumes;
   * an upload nobody can resume (no key) or that is refused (too many lines) is removed whole.
   */
  async function receive(upload: BatchUploadWriter, lines: AsyncIterable<RawLine>, idempotencyKey?: string): Promise<void> {
    try {
      for await (const line of lines) await upload.append(line);
      await upload.seal();
    } catch (error) {
      await upload.abort().catch((abortError: Error) => app.log.warn({ err: abortError }, 'releasing a failed upload'));
      if (idempotencyKey === undefined || (error as RerankPoolError).code === 'payload_too_large') {
        await batches.discard(upload.batchId).catch((discardError: Error) => app.log.warn({ err: discardError }, 'removing a failed upload'));
      }
      throw error;
    }
  }

  function referenceOf(request: FastifyRequest, body: Record<string, unknown>): BatchReference {
    const validate = request.compileValidationSchema(batchReferenceSchema, 'body') as LineValidator;
    if (!validate(body)) throw fromValidation(validate.errors ?? []);
    return body as unknown as BatchReference;
  }

  app.post<{ Querystring: { idempotency_key?: string }; Body: unknown }>('/v1/batches', {
    schema: {
      summary: 'Submit many rerank requests: a JSON array, NDJSON (one request per line) streamed, or {input_url, output_url} by reference',
      tags: ['batches'],
      querystring: batchQuerySchema,
      headers: { type: 'object', properties: { [IDEMPOTENCY_HEADER]: batchQuerySchema.properties.idempotency_key } },
      body: {
        content: {
          'application/json': {
            schema: {
              anyOf: [{ type: 'array' }, { type: 'object' }],
              description: 'An array of rerank requests {id?, query, documents, model?, top_n?, return_documents?, max_tokens_per_doc?}, or a batch by reference {input_url, output_url?}',
            },
          },
          [BATCH_NDJSON_TYPE]: { schema: { description: 'One rerank request per line, as in the JSON array' } },
        },
      },
      response: { 202: batchAcceptedSchema, ...errorResponses },
    },
    handler: async (request, reply): Promise<BatchAccepted> => {
      const header = request.headers[IDEMPOTENCY_HEADER];
      const idempotencyKey = request.query.idempotency_key ?? (typeof header === 'string' ? header : undefined);
      // The batch keeps this request's span (the handler runs in it), which every line's job span
      // links to; with tracing off here, the caller's own traceparent, if any, stands in.
      const context = { tenant: request.tenant, idempotencyKey, trace: injectTraceCarrier() ?? traceCarrier(request.headers) };
      const body = request.body;
      let batchId: string;
      if (isObject(body) && !(body instanceof Readable) && !(body instanceof JsonArrayLines)) {
        const reference = referenceOf(request, body);
        batchId = await batches.createByReference(context, { inputUrl: reference.input_url, outputUrl: reference.output_url });
      } else {
        let lines: AsyncIterable<RawLine>;
        if (body instanceof JsonArrayLines) lines = body;
        else if (body instanceof Readable) lines = splitLines(body, { maxLineBytes: config.maxBodyBytes });
        else throw Errors.invalidRequest(`the body must be a JSON array of rerank requests, NDJSON with content-type ${BATCH_NDJSON_TYPE}, or {input_url}`, 'body');
        const opened = await batches.openUpload(context);
        batchId = opened.batchId;
        // Without an upload the key named a complete batch: its id is the answer, the body unread.
        if (opened.upload) await receive(opened.upload, lines, idempotencyKey);
      }
      await batches.acknowledge(batchId);
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
      const results = await batches.results(request.params.id, request.tenant);
      reply.type(BATCH_NDJSON_TYPE);
      return reply.send(Readable.from(results));
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
