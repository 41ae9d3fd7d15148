import { isSpanContextValid, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { encodeJobFailure, Errors, isRerankPoolError, parseRerankJobData, rerankSignals, type RerankJobData, type RerankJobResult } from '@rerank-pool/contracts';
import { documentScores, InferencePool, ModelRuntimeError, type PackedPairs } from '@rerank-pool/model-runtime';
import { checkDeadline, isCancelRequest, toJobFailure } from '@rerank-pool/queue';
import { mergeCachedResult, pairsOfResult, splitByCache, type ScoreCache } from '@rerank-pool/score-cache';
import { extractTraceContext, recordingSpanContext, withSpan } from '@rerank-pool/telemetry';
import type { RerankMetrics } from '@rerank-pool/telemetry';
import type { LaneBatchers } from './lane-batchers.js';
import type { WorkerLogger } from './worker-options.js';

/** Milliseconds since `started` (a performance.now() reading), to the hundredth. */
function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

// Each progress write is a Redis round trip; a few per second is plenty for a progress bar.
const PROGRESS_INTERVAL_MS = 250;

/** The pair-score cache as a worker uses it: the store and the identity of the model it serves. */
export interface JobScoreCache {
  store: ScoreCache;
  identity: string;
}

export interface JobScorerObservers {
  metrics: RerankMetrics;
  logger: WorkerLogger;
}

/**
 * Scores one BullMQ job: checks it, tokenizes on the threads of its priority's lane, hands its
 * pairs to that lane's batcher (where they meet the pairs of every other active job of the same
 * lane) and returns the scores
 * in input order. Bad jobs fail without retry; nothing a job holds can hurt another job.
 *
 * Its `process <queue>` span (OpenTelemetry messaging conventions) continues the trace of the
 * request that enqueued it (the W3C context in the payload) and holds `rerank.tokenize` and
 * `rerank.inference`; the batches its pairs land in link back to it.
 *
 * The job of an offline batch line is the exception: its payload carries the span of the request
 * that created the batch, and its span starts a trace of its own with a link to that span instead
 * of being its child. A batch has up to millions of lines and runs for hours: as children they
 * would make one trace of millions of spans, past what trace stores keep or show, hanging off a
 * span that ended long before, and all sampled or all dropped by that one request's decision.
 * Linked, each line is a small trace, sampled on its own, one click away from its batch.
 *
 * BullMQ's own telemetry option (bullmq-otel) is not used: it carries a second context in the job
 * options and opens its own producer and consumer spans around `add` and processing, so each job
 * would get two competing parents. The payload's carrier is part of the job contract, validated,
 * and still carries a caller's `traceparent` when the API itself does not trace.
 */
export class JobScorer {
  private running = 0;

  constructor(
    private readonly pool: InferencePool,
    private readonly batchers: LaneBatchers,
    private readonly observers: JobScorerObservers,
    private readonly cache?: JobScoreCache,
  ) {}

  /**
   * BullMQ's processor. An abort means one of two things, told apart by its reason:
   * - a cancellation request (`CANCEL_REQUESTED`: the job's synchronous client went away): the
   *   job's rows not yet batched leave the batcher and the job ends `cancelled`, final, unretried;
   * - anything else (`Worker.cancelAllJobs`, used by a drain that ran out of time): the job goes
   *   back to its queue untouched, no attempt spent, at once free for another worker.
   */
  async process(job: Job<RerankJobData>, token?: string, signal?: AbortSignal): Promise<RerankJobResult> {
    this.running++;
    try {
      return await this.processCounted(job, token, signal);
    } finally {
      this.running--;
    }
  }

  /** Jobs in `process` now: what a stopping worker still has to finish or hand back. */
  get activeJobs(): number {
    return this.running;
  }

  private async processCounted(job: Job<RerankJobData>, token?: string, signal?: AbortSignal): Promise<RerankJobResult> {
    // The job's own time on the monotonic clock, to the hundredth of a ms: whole milliseconds of
    // Date.now() made every request's reported overhead (latency minus this) off by up to 1 ms.
    const started = performance.now();
    const queueMs = Math.max(0, Date.now() - job.timestamp);
    // The payload comes from Redis; a missing or malformed carrier just starts a new trace.
    const payload = job.data as Partial<RerankJobData> | undefined;
    const origin = extractTraceContext(payload?.trace);
    const batchSpan = payload?.batch === undefined ? undefined : trace.getSpanContext(origin);
    try {
      return await withSpan(
        `process ${job.queueName}`,
        {
          kind: SpanKind.CONSUMER,
          parent: payload?.batch === undefined ? origin : ROOT_CONTEXT,
          links: batchSpan && isSpanContextValid(batchSpan) ? [{ context: batchSpan }] : [],
          attributes: {
            'messaging.system': 'bullmq',
            'messaging.operation.type': 'process',
            'messaging.operation.name': 'process',
            'messaging.destination.name': job.queueName,
            'messaging.message.id': job.id ?? '',
            'rerank.model': this.pool.model.id,
            'rerank.queue_wait_ms': queueMs,
            'rerank.attempt': job.attemptsMade + 1,
          },
        },
        async (span) => this.observeSignals(payload, await this.score(job, span, started, queueMs, signal)),
      );
    } catch (error) {
      if (signal?.aborted && isCancelRequest(signal.reason)) {
        this.observers.logger.info('job cancelled', { model: this.pool.model.id, jobId: job.id });
        throw new UnrecoverableError(encodeJobFailure(Errors.clientGone(job.id)));
      }
      if (signal?.aborted && token !== undefined) {
        await job.moveToWait(token);
        throw new WaitingError(`job ${job.id} handed back: ${String(signal.reason)}`);
      }
      throw toJobFailure(error);
    }
  }

  /**
   * Each request's re-ranking signals are observed once, where its final result is whole: here
   * for the jobs nobody waits on (async jobs report progress, batch lines carry `batch`); the API
   * observes synchronous requests, whose results it may complete from the pair-score cache.
   */
  private observeSignals(data: Partial<RerankJobData> | undefined, result: RerankJobResult): RerankJobResult {
    if (data?.reportProgress || data?.batch) this.observers.metrics.observeSignals(this.pool.model.id, rerankSignals(result.scores, result.truncated));
    return result;
  }

  private async score(job: Job<RerankJobData>, span: Span, started: number, queueMs: number, signal?: AbortSignal): Promise<RerankJobResult> {
    const model = this.pool.model.id;
    try {
      const data = parseRerankJobData(job.data);
      span.setAttributes({ 'rerank.documents': data.documents.length, 'rerank.priority': data.priority });
      if (data.batch) span.setAttributes({ 'rerank.offline_batch.id': data.batch.id, 'rerank.offline_batch.line_index': data.batch.index });
      // By priority class, as queue depth is: batch lines wait behind async batch jobs.
      this.observers.metrics.queueWait.observe({ model, priority: data.batch ? 'batch_line' : data.priority }, queueMs / 1000);
      checkDeadline(data, job.id);
      return await this.scoreCached(data, started, queueMs, (computing) => this.compute(job, computing, span, started, queueMs, signal));
    } catch (error) {
      // A job handed back on shutdown or cancelled did not fail: `process` settles it, nothing to count.
      if (signal?.aborted) throw error;
      const failure = translate(error);
      const code = isRerankPoolError(failure) ? failure.code : 'internal';
      this.observers.metrics.errors.inc({ code });
      // Inside the job span, so the line carries its trace_id; messages name fields, never text.
      this.observers.logger.warn('job failed', { model, jobId: job.id, attempt: job.attemptsMade + 1, code, err: (failure as Error).message });
      throw failure;
    }
  }

  /** Tokenizes and scores `data`'s documents through the batcher of its lane. */
  private async compute(
    job: Job<RerankJobData>,
    data: RerankJobData,
    span: Span,
    started: number,
    queueMs: number,
    signal?: AbortSignal,
  ): Promise<{ result: RerankJobResult; documentTokens: number[] }> {
    // Interactive rows never queue behind batch work, but share the cores with it (at a lower
    // priority): counted when batch-lane batches ran as the job was tokenized or batched.
    const interactive = data.priority === 'interactive';
    const batchRunningAtTokenize = interactive && this.batchers.batch.running > 0;
    // A job handed back (or cancelled) goes at once: its tokenization, queued behind other jobs'
    // on the pool, cannot be stopped, and a drain's hand-back has a bound.
    const encoded = await unlessAborted(this.tokenize(data), signal);
    if (batchRunningAtTokenize || (interactive && this.batchers.batch.running > 0)) {
      this.observers.metrics.interactiveRowsBehindBatch.inc({ model: this.pool.model.id }, encoded.count);
    }
    const inputTokens = tokenCount(encoded);
    span.setAttribute('rerank.tokens', inputTokens);
    const jobLink = recordingSpanContext();
    // The first write waits an interval too: a job that finishes sooner needs no progress at all.
    let lastProgress = Date.now();
    const logits = await withSpan('rerank.inference', { attributes: { 'rerank.pairs': encoded.count, 'rerank.tokens': inputTokens } }, () =>
      this.batchers[data.priority].submit(encoded, {
        signal,
        traceLink: jobLink,
        onProgress: (done, total) => {
          if (!data.reportProgress) return;
          const now = Date.now();
          // Completion itself reads as progress 1; writing it too would cost every job a round trip.
          if (done === total || now - lastProgress < PROGRESS_INTERVAL_MS) return;
          lastProgress = now;
          void job.updateProgress(done / total).catch(() => undefined);
        },
      }),
    );
    // A chunked document's rows are consecutive; it scores as its best chunk. Every row was
    // computed, so inputTokens (what a job bills) counts every chunk.
    const perDocument = documentScores(encoded, logits, this.pool.model.numLabels);
    const result: RerankJobResult = {
      v: 1,
      model: data.model,
      scores: perDocument.scores,
      logits: perDocument.logits,
      inputTokens,
      timings: { queueMs, inferenceMs: elapsedMs(started) },
      truncated: perDocument.truncated,
      ...(data.options.maxChunksPerDoc === undefined ? {} : { chunks: perDocument.chunks }),
    };
    return { result, documentTokens: perDocument.tokens };
  }

  /**
   * `compute` with the pair-score cache around it: pairs found there are not computed, and what
   * is computed is stored. A job the API already looked up (`scoreCache: 'store'`) is only
   * stored; one that asked for no cache (`off`) is left alone. A job with `truncate: false` is
   * computed whole unless every pair is cached, so an over-long document is named by its index.
   */
  private async scoreCached(
    data: RerankJobData,
    started: number,
    queueMs: number,
    compute: (data: RerankJobData) => Promise<{ result: RerankJobResult; documentTokens: number[] }>,
  ): Promise<RerankJobResult> {
    const cache = this.cache;
    if (!cache || data.scoreCache === 'off') return (await compute(data)).result;
    const chunked = data.options.maxChunksPerDoc !== undefined;
    const split =
      data.scoreCache === 'store' ? undefined : splitByCache(data.documents, data.options, await cache.store.lookup(cache.identity, data.options, data.query, data.documents));
    if (split) {
      this.observers.metrics.observeCacheLookup(this.pool.model.id, split.hits, data.documents.length - split.hits);
      if (split.toCompute.length === 0) {
        return { ...mergeCachedResult({ model: data.model, cached: split.merge!, chunked }), timings: { queueMs, inferenceMs: elapsedMs(started) } };
      }
    }
    const computing = split ? { ...data, documents: split.toCompute } : data;
    const { result, documentTokens } = await compute(computing);
    await cache.store.store(cache.identity, data.options, data.query, computing.documents, pairsOfResult(result, documentTokens));
    if (split?.merge) return mergeCachedResult({ model: data.model, cached: split.merge, computed: result, chunked });
    return split ? { ...result, cachedPairs: 0 } : result;
  }

  private tokenize(data: RerankJobData): Promise<PackedPairs> {
    return withSpan('rerank.tokenize', { attributes: { 'rerank.documents': data.documents.length } }, async (span) => {
      const encoded = await this.pool.encode(
        data.query,
        data.documents,
        {
          maxTokensPerDoc: data.options.maxTokensPerDoc,
          truncationDirection: data.options.truncationDirection,
          maxChunksPerDoc: data.options.maxChunksPerDoc,
        },
        data.priority,
      );
      // Rows are documents, or their chunks when chunking is asked for (all of a document's rows
      // share its truncated flag): count documents, name the document.
      let truncated = 0;
      let document = -1;
      let firstCut = -1;
      for (let i = 0; i < encoded.count; i++) {
        if (encoded.chunk[i] === 0) document++;
        if (encoded.chunk[i] !== 0 || !encoded.truncated[i]) continue;
        truncated++;
        if (firstCut < 0) firstCut = document;
      }
      span.setAttributes({ 'rerank.tokens': tokenCount(encoded), 'rerank.truncated_documents': truncated, 'rerank.pairs': encoded.count });
      if (data.options.truncate === false && firstCut >= 0) {
        throw Errors.inputTooLong(
          `document ${firstCut} with the query exceeds the model's limit of ${this.pool.model.maxLength} tokens; set truncate: true to cut it`,
          `documents[${firstCut}]`,
        );
      }
      return encoded;
    });
  }
}

function tokenCount(encoded: PackedPairs): number {
  return encoded.offsets[encoded.count]! - encoded.offsets[0]!;
}

function translate(error: unknown): unknown {
  if (error instanceof ModelRuntimeError && (error.code === 'INPUT_TOO_LONG' || error.code === 'INVALID_OPTION')) {
    return Errors.inputTooLong(error.message);
  }
  return error;
}

/** `work`, or its rejection with `signal`'s reason as soon as `signal` aborts, whichever comes first. */
function unlessAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
