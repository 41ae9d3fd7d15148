import { randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import type { Config } from '@rerank-pool/config';
import { Errors } from '@rerank-pool/contracts';
import type { RerankJobData, RerankJobResult } from '@rerank-pool/contracts';
import { beforeTimeout, CallbackTargetPolicy } from '@rerank-pool/queue';
import type { EnqueueOptions, EnqueueResult, RerankQueue } from '@rerank-pool/queue';
import { mergeCachedResult, splitByCache, type CacheSplit, type ScoreCache } from '@rerank-pool/score-cache';
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

/** Seconds a client is told to wait after a 429; queues drain in well under that at normal load. */
const RETRY_AFTER_SECONDS = 1;

export interface RerankServiceOptions {
  /** The pair-score cache (SCORE_CACHE_URL), when there is one. */
  scoreCache?: ScoreCache;
  metrics: RerankMetrics;
}

/**
 * The inference facade the routes talk to: checks limits, admission and model, builds the job
 * payload, enqueues and waits. Everything that rejects a request happens before enqueueing, so a
 * bad request never reaches a worker.
 */
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
    const split = await this.lookUp(job.data);
    const chunked = job.data.options.maxChunksPerDoc !== undefined;
    if (split?.toCompute.length === 0) {
      // Nothing to compute: answered here, without a job, a queue or a worker.
      return { jobId: randomUUID(), result: mergeCachedResult({ model: job.data.model, cached: split.merge!, chunked }), totalMs: performance.now() - started };
    }
    // A partly cached request's worker stores the scores of the misses without looking them up again.
    const partial = split && { queue: job.queue, data: { ...job.data, documents: split.toCompute, scoreCache: 'store' as const } };
    const { queue, data } = await beforeTimeout(this.admit(partial ?? job), timeoutMs, () => Errors.requestTimeout(timeoutMs, 'in admission'));
    const { jobId, result } = await queue.submitAndWait((replyTo) => this.enqueue(queue, { ...data, replyTo }), data.documents.length, timeoutMs, startedAt, clientGone);
    const merged = split?.merge ? mergeCachedResult({ model: data.model, cached: split.merge, computed: result, chunked }) : result;
    return { jobId, result: merged, totalMs: performance.now() - started };
  }

  /**
   * The request split by the score cache (`splitByCache`), or undefined when the cache is not
   * consulted: none configured, `cache: false`, or no worker has yet published the model's
   * identity (then nothing of it can be cached). Bounded by the cache's command timeout; a failing
   * cache is all misses.
   */
  private async lookUp(data: RerankJobData): Promise<CacheSplit | undefined> {
    const cache = this.options.scoreCache;
    if (!cache || data.scoreCache === 'off') return undefined;
    const identity = await cache.identityOf(data.model);
    if (identity === undefined) return undefined;
    const split = splitByCache(data.documents, data.options, await cache.lookup(identity, data.options, data.query, data.documents));
    this.options.metrics.observeCacheLookup(data.model, split.hits, data.documents.length - split.hits);
    return split;
  }

  /** Admission and enqueue within REQUEST_TIMEOUT_MS. */
  async submit(input: RerankInput, tenant: string, idempotencyKey?: string, trace?: Record<string, string>): Promise<EnqueueResult> {
    if (input.callbackUrl !== undefined && this.config.webhookSecret === undefined) {
      throw Errors.invalidRequest('callback_url needs the server to be configured with WEBHOOK_SECRET', 'callback_url');
    }
    const submitting = (async () => {
      const { queue, data } = await this.admit(this.jobFor(input, tenant, trace));
      if (input.callbackUrl !== undefined) await checkCallbackUrl(this.callbackTargets, input.callbackUrl);
      return this.enqueue(queue, { ...data, reportProgress: true }, { idempotencyKey, confirmReplicated: true });
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
