import { randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import type { Config } from '@rerank-pool/config';
import { Errors } from '@rerank-pool/contracts';
import type { RerankJobData, RerankJobResult } from '@rerank-pool/contracts';
import { beforeTimeout, CallbackTargetPolicy } from '@rerank-pool/queue';
import type { EnqueueOptions, EnqueueResult, RerankQueue } from '@rerank-pool/queue';
import { mergeCachedResult, type CachedPair, type ScoreCache } from '@rerank-pool/score-cache';
import { injectTraceCarrier, withSpan } from '@rerank-pool/telemetry';
import type { RerankMetrics } from '@rerank-pool/telemetry';
import { checkCallbackUrl } from './callback-url.js';
import type { ModelRegistry } from './model-registry.js';
import type { RerankInput } from './rerank-input.js';

export interface SyncRerankOutcome {
  jobId: string;
  result: RerankJobResult;
  /** Wall time from accepting the request to having the result. */
  totalMs: number;
}

/**
 * The job of a partly cached request: only the documents the cache lacks, which its worker stores
 * without looking them up again. A request with `truncate: false` is sent whole (and its cached
 * pairs dropped), so its worker names an over-long document by its index in the request.
 */
function withoutCached(data: RerankJobData, cached: readonly (CachedPair | undefined)[]): { data: RerankJobData; cached?: readonly (CachedPair | undefined)[] } {
  if (data.options.truncate === false) return { data: { ...data, scoreCache: 'store' } };
  return { data: { ...data, documents: data.documents.filter((_, index) => cached[index] === undefined), scoreCache: 'store' }, cached };
}

/** Seconds a client is told to wait after a 429; queues drain in well under that at normal load. */
const RETRY_AFTER_SECONDS = 1;

/**
 * The inference facade the routes talk to: checks limits, admission and model, builds the job
 * payload, enqueues and waits. Everything that rejects a request happens before enqueueing, so a
 * bad request never reaches a worker.
 */
export interface RerankServiceOptions {
  /** The pair-score cache (SCORE_CACHE_URL), when there is one. */
  scoreCache?: ScoreCache;
  metrics: RerankMetrics;
}

export class RerankService {
  private readonly callbackTargets: CallbackTargetPolicy;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly config: Config,
    private readonly options: RerankServiceOptions,
  ) {
    this.callbackTargets = new CallbackTargetPolicy({ allowedHosts: config.webhookAllowedHosts });
  }

  /**
   * Admission, enqueue and the wait for the result, all within the request's timeout. `clientGone`
   * aborts when the client disconnects: its job is then cancelled, removed if still queued and
   * stopped by its worker if running (`RerankQueue.submitAndWait`).
   */
  async rerank(input: RerankInput, tenant: string, trace?: Record<string, string>, clientGone?: AbortSignal): Promise<SyncRerankOutcome> {
    const started = performance.now();
    const startedAt = Date.now();
    const timeoutMs = input.timeoutMs ?? this.config.requestTimeoutMs;
    const job = this.jobFor(input, tenant, trace, timeoutMs);
    const cached = await this.lookUp(job.data);
    const chunked = job.data.options.maxChunksPerDoc !== undefined;
    if (cached?.every((pair) => pair !== undefined)) {
      // Nothing to compute: answered here, without a job, a queue or a worker.
      return { jobId: randomUUID(), result: mergeCachedResult({ model: job.data.model, cached, chunked }), totalMs: performance.now() - started };
    }
    const partial = cached && withoutCached(job.data, cached);
    const { queue, data } = await beforeTimeout(this.admit(partial ? { queue: job.queue, data: partial.data } : job), timeoutMs, () =>
      Errors.requestTimeout(timeoutMs, 'in admission'),
    );
    const { jobId, result } = await queue.submitAndWait(() => this.enqueue(queue, data), data.documents.length, timeoutMs, startedAt, clientGone);
    const merged = partial?.cached ? mergeCachedResult({ model: data.model, cached: partial.cached, computed: result, chunked }) : result;
    return { jobId, result: merged, totalMs: performance.now() - started };
  }

  /**
   * The request's pairs in the score cache, one entry per document (undefined: a miss), or
   * undefined when the cache is not consulted: none configured, `cache: false`, or no worker has
   * yet published the model's identity (then nothing of it can be cached). Bounded by the cache's
   * command timeout; a failing cache is all misses.
   */
  private async lookUp(data: RerankJobData): Promise<(CachedPair | undefined)[] | undefined> {
    const cache = this.options.scoreCache;
    if (!cache || data.scoreCache === 'off') return undefined;
    const identity = await cache.identityOf(data.model);
    if (identity === undefined) return undefined;
    const cached = await cache.lookup(identity, data.options, data.query, data.documents);
    const hits = cached.filter((pair) => pair !== undefined).length;
    this.options.metrics.observeCacheLookup(data.model, hits, cached.length - hits);
    return cached;
  }

  /** Admission and enqueue within REQUEST_TIMEOUT_MS. */
  async submit(input: RerankInput, tenant: string, idempotencyKey?: string, trace?: Record<string, string>): Promise<EnqueueResult> {
    if (input.callbackUrl !== undefined && this.config.webhookSecret === undefined) {
      throw Errors.invalidRequest('callback_url needs the server to be configured with WEBHOOK_SECRET', 'callback_url');
    }
    const submitting = (async () => {
      const { queue, data } = await this.admit(this.jobFor(input, tenant, trace));
      if (input.callbackUrl !== undefined) await checkCallbackUrl(this.callbackTargets, input.callbackUrl);
      return this.enqueue(queue, { ...data, reportProgress: true }, { idempotencyKey });
    })();
    const { requestTimeoutMs } = this.config;
    return beforeTimeout(submitting, requestTimeoutMs, () => Errors.requestTimeout(requestTimeoutMs, 'being admitted and enqueued'));
  }

  /**
   * The job payload of a request that passed every check but admission: limits and model. Lines
   * of offline batches take this path alone; they skip admission because they wait by design.
   */
  prepare(input: RerankInput, tenant: string, trace?: Record<string, string>): RerankJobData {
    return this.jobFor(input, tenant, trace).data;
  }

  private jobFor(input: RerankInput, tenant: string, trace?: Record<string, string>, timeoutMs?: number): { queue: RerankQueue; data: RerankJobData } {
    this.checkLimits(input);
    const queue = this.registry.queueFor(input.model);
    const createdAt = Date.now();
    const data: RerankJobData = {
      v: 1,
      model: queue.model,
      query: input.query,
      documents: input.documents,
      options: {
        maxTokensPerDoc: input.maxTokensPerDoc,
        truncate: input.truncate,
        truncationDirection: input.truncationDirection,
        // 1 is truncation, the default: the job then carries nothing new and answers as before.
        maxChunksPerDoc: input.maxChunksPerDoc !== undefined && input.maxChunksPerDoc > 1 ? input.maxChunksPerDoc : undefined,
      },
      priority: input.priority,
      tenant,
      createdAt,
      deadline: timeoutMs === undefined ? undefined : createdAt + timeoutMs,
      callbackUrl: input.callbackUrl,
      trace,
      response: input.response,
      scoreCache: input.cache === false ? 'off' : undefined,
    };
    return { queue, data };
  }

  private async admit(job: { queue: RerankQueue; data: RerankJobData }): Promise<{ queue: RerankQueue; data: RerankJobData }> {
    const { queue, data } = job;
    const depth = await queue.admissionDepth();
    if (depth >= this.config.maxQueueDepth) {
      throw Errors.overloaded(
        `model ${queue.model} has ${depth} waiting jobs (MAX_QUEUE_DEPTH ${this.config.maxQueueDepth}); retry later`,
        RETRY_AFTER_SECONDS,
      );
    }
    return { queue, data };
  }

  /**
   * Enqueues inside a PRODUCER span whose context travels in the job (`data.trace`), so the
   * worker's job span is its child. With tracing off nothing is injected and the caller's own
   * `traceparent`, if any, is carried unchanged for a worker that traces.
   *
   * Named and described per OpenTelemetry's messaging conventions (`{operation} {destination}`,
   * the destination being the model's BullMQ queue: one per model, so low in cardinality).
   */
  private enqueue(queue: RerankQueue, data: RerankJobData, options?: EnqueueOptions): Promise<EnqueueResult> {
    const attributes = {
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': queue.name,
      'rerank.model': data.model,
      'rerank.documents': data.documents.length,
      'rerank.priority': data.priority,
    };
    return withSpan(`send ${queue.name}`, { kind: SpanKind.PRODUCER, attributes }, async (span) => {
      const result = await queue.enqueue({ ...data, trace: injectTraceCarrier() ?? data.trace }, options);
      span.setAttributes({ 'messaging.message.id': result.jobId, 'rerank.job_created': result.created });
      return result;
    });
  }

  private checkLimits({ query, documents, maxChunksPerDoc }: RerankInput): void {
    const { maxDocuments, maxDocumentChars, maxChunksPerDoc: maxChunks } = this.config;
    if (maxChunksPerDoc !== undefined && maxChunksPerDoc > maxChunks) {
      throw Errors.invalidRequest(`max_chunks_per_doc is ${maxChunksPerDoc}; the limit is ${maxChunks} (MAX_CHUNKS_PER_DOC)`, 'max_chunks_per_doc');
    }
    if (query.trim() === '') throw Errors.invalidRequest('query must not be empty', 'query');
    if (query.length > maxDocumentChars) {
      throw Errors.invalidRequest(`query has ${query.length} characters; the limit is ${maxDocumentChars} (MAX_DOCUMENT_CHARS)`, 'query');
    }
    if (documents.length === 0) throw Errors.invalidRequest('documents must not be empty', 'documents');
    if (documents.length > maxDocuments) {
      throw Errors.invalidRequest(`${documents.length} documents given; the limit is ${maxDocuments} (MAX_DOCUMENTS)`, 'documents');
    }
    documents.forEach((document, index) => {
      if (document.length > maxDocumentChars) {
        throw Errors.invalidRequest(
          `documents[${index}] has ${document.length} characters; the limit is ${maxDocumentChars} (MAX_DOCUMENT_CHARS)`,
          `documents[${index}]`,
        );
      }
    });
  }
}
