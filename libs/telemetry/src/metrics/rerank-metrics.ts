import { collectDefaultMetrics, Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { fillRerankMetricsOptions } from './metrics-options.js';
import type { RerankMetricsOptions } from './metrics-options.js';
import { OperationsMetrics } from './operations-metrics.js';
import { QUEUE_STATES } from './queue-depth.js';
import type { PoolUtilizationSource, QueueDepth, QueueDepthSource } from './queue-depth.js';

/** What one inference batch did (the batcher's BatchStats carry these fields). */
export interface BatchObservation {
  rows: number;
  realTokens: number;
  paddedTokens: number;
  durationMs: number;
}

/** The re-ranking signals of one finished request (`rerankSignals` of @rerank-pool/contracts returns these fields). */
export interface SignalsObservation {
  documents: number;
  kendallTau: number | null;
  top10KeptFraction: number;
  /** Null when the result does not say which documents were truncated: that histogram then skips it. */
  truncatedFraction: number | null;
  scoreSpread: number;
}

// Buckets in the metric's unit. Queue waits span interactive milliseconds to batch minutes.
const SECONDS_QUEUE = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const SECONDS_WORK = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const ROWS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const TOKENS = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
const RATIO = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 1];
// Re-ranking signals. Tau piles up near 1 when the cross-encoder changes little, so the top is fine.
const KENDALL_TAU = [-0.5, 0, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];
// Top-10 fractions are tenths (fewer than 10 documents give others), each bucket one of them.
const TENTHS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
const TRUNCATED = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1];
// Relevance scores are probabilities, so their spread is within [0, 1].
const SPREAD = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1];

/**
 * Every Prometheus series rerank-pool exposes, on one registry. API and worker share the
 * definitions (in `rerank-pool dev` they share one process and one registry); each process
 * only observes its own, so a worker's request histogram simply stays empty.
 *
 * Gauges that describe state elsewhere (queue counts in Redis, pool utilization) are read at
 * scrape time from sources the apps register, never polled in the background.
 */
export class RerankMetrics {
  readonly registry: Registry;
  /** API: wall time of each HTTP request by route pattern (never the raw URL) and status. */
  readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Worker: enqueue to start of processing, per job, by priority class (interactive, batch, batch_line). */
  readonly queueWait: Histogram<'model' | 'priority'>;
  /** Worker: interactive rows tokenized or batched while batch-lane batches ran on the same cores. */
  readonly interactiveRowsBehindBatch: Counter<'model'>;
  /** Worker: one inference batch on a pool thread. */
  readonly inferenceDuration: Histogram<'model'>;
  readonly batchRows: Histogram<'model'>;
  /** Computed (padded) tokens of a batch: what MAX_BATCH_TOKENS bounds. */
  readonly batchTokens: Histogram<'model'>;
  readonly batchPaddingEfficiency: Histogram<'model'>;
  readonly pairs: Counter<'model'>;
  /** Real (unpadded) tokens scored. */
  readonly tokens: Counter<'model'>;
  /** Failures by error code: API responses >= 400 and failed job attempts in workers. */
  readonly errors: Counter<'code'>;
  /** Worker: jobs found abandoned by a worker that stopped renewing its lock, and run again. */
  readonly jobsStalled: Counter<'model'>;
  /**
   * Worker: results computed but not recorded because the worker had lost the job's lock (Redis
   * outage, stalled event loop); the job runs again elsewhere. Batch lines are recorded anyway.
   */
  readonly resultsDiscarded: Counter<'model'>;
  /** Queue staleness, live workers, batch progress, Redis reachability, memory limit, model dtype, webhook outcomes. */
  readonly operations: OperationsMetrics;
  /**
   * Re-ranking signals of every finished request of 2 or more documents, observed once where its
   * full result is in hand: the API for synchronous requests, the worker for async jobs and batch lines.
   */
  readonly signalKendallTau: Histogram<'model'>;
  readonly signalTop10Kept: Histogram<'model'>;
  readonly signalTruncated: Histogram<'model'>;
  readonly signalScoreSpread: Histogram<'model'>;
  /** Pair-score cache lookups, per pair: in the API for synchronous requests, in workers for jobs. */
  readonly cacheHits: Counter<'model'>;
  readonly cacheMisses: Counter<'model'>;
  /** Cache commands that failed or timed out (each lookup then misses, each write is lost). */
  readonly cacheErrors: Counter;
  private readonly cacheLookups = new Map<string, { hits: number; misses: number }>();
  private readonly cacheHitRatio: Gauge<'model'>;
  private readonly queueJobs: Gauge<'model' | 'state'>;
  private readonly pendingJobs: Gauge<'model' | 'priority'>;
  private readonly pendingPairs: Gauge<'model' | 'priority'>;
  private readonly queueSampleErrors: Counter;
  private readonly poolUtilization: Gauge<'model'>;
  private readonly queueSources = new Set<QueueDepthSource>();
  private readonly poolSources = new Set<PoolUtilizationSource>();
  private readonly sampleTimeoutMs: number;
  private sampling?: Promise<QueueDepth[]>;

  constructor(options: RerankMetricsOptions = {}) {
    const filled = fillRerankMetricsOptions(options);
    const registers = [filled.registry];
    this.registry = filled.registry;
    this.sampleTimeoutMs = filled.sampleTimeoutMs;
    if (filled.defaultMetrics) collectDefaultMetrics({ register: this.registry });

    this.requestDuration = new Histogram({
      name: 'rerank_request_duration_seconds',
      help: 'HTTP request duration in the API, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: SECONDS_WORK,
      registers,
    });
    this.queueWait = new Histogram({
      name: 'rerank_queue_wait_seconds',
      help: 'Time a job waited in its queue before a worker started it',
      labelNames: ['model', 'priority'],
      buckets: SECONDS_QUEUE,
      registers,
    });
    this.inferenceDuration = new Histogram({
      name: 'rerank_inference_seconds',
      help: 'Duration of one inference batch on a pool thread',
      labelNames: ['model'],
      buckets: SECONDS_WORK,
      registers,
    });
    this.batchRows = new Histogram({
      name: 'rerank_batch_rows',
      help: 'Pairs (rows) per inference batch',
      labelNames: ['model'],
      buckets: ROWS,
      registers,
    });
    this.batchTokens = new Histogram({
      name: 'rerank_batch_tokens',
      help: 'Computed tokens per inference batch (rows x padded length)',
      labelNames: ['model'],
      buckets: TOKENS,
      registers,
    });
    this.batchPaddingEfficiency = new Histogram({
      name: 'rerank_batch_padding_efficiency',
      help: 'Real tokens / computed tokens of each inference batch',
      labelNames: ['model'],
      buckets: RATIO,
      registers,
    });
    this.interactiveRowsBehindBatch = new Counter({
      name: 'rerank_interactive_rows_behind_batch_total',
      help: 'Interactive pairs tokenized or batched while batch-lane batches ran on the same cores (at a lower priority)',
      labelNames: ['model'],
      registers,
    });
    this.pairs = new Counter({ name: 'rerank_pairs_total', help: '(query, document) pairs scored', labelNames: ['model'], registers });
    this.tokens = new Counter({ name: 'rerank_tokens_total', help: 'Real (unpadded) tokens scored', labelNames: ['model'], registers });
    this.errors = new Counter({ name: 'rerank_errors_total', help: 'Errors by code (API responses and failed job attempts)', labelNames: ['code'], registers });
    this.jobsStalled = new Counter({
      name: 'rerank_jobs_stalled_total',
      help: 'Jobs whose worker stopped renewing their lock (crash, outage), moved back to the queue',
      labelNames: ['model'],
      registers,
    });
    this.resultsDiscarded = new Counter({
      name: 'rerank_results_discarded_total',
      help: 'Results a worker computed after losing the job lock, not recorded; the job runs again',
      labelNames: ['model'],
      registers,
    });

    this.signalKendallTau = new Histogram({
      name: 'rerank_signal_kendall_tau',
      help: 'Kendall tau between input and re-ranked order per request (1 = re-ranking changed nothing, -1 = reversed)',
      labelNames: ['model'],
      buckets: KENDALL_TAU,
      registers,
    });
    this.signalTop10Kept = new Histogram({
      name: 'rerank_signal_top10_kept_ratio',
      help: "Share of the input's top 10 still in the re-ranked top 10, per request",
      labelNames: ['model'],
      buckets: TENTHS,
      registers,
    });
    this.signalTruncated = new Histogram({
      name: 'rerank_signal_truncated_ratio',
      help: "Share of a request's documents cut to fit the model's window",
      labelNames: ['model'],
      buckets: TRUNCATED,
      registers,
    });
    this.signalScoreSpread = new Histogram({
      name: 'rerank_signal_score_spread',
      help: 'Highest minus lowest relevance score of a request',
      labelNames: ['model'],
      buckets: SPREAD,
      registers,
    });

    this.cacheHits = new Counter({ name: 'rerank_cache_hits_total', help: 'Pairs whose score came from the pair-score cache', labelNames: ['model'], registers });
    this.cacheMisses = new Counter({ name: 'rerank_cache_misses_total', help: 'Pairs looked up in the pair-score cache and not found', labelNames: ['model'], registers });
    this.cacheErrors = new Counter({ name: 'rerank_cache_errors_total', help: 'Pair-score cache commands that failed or timed out (lookups then miss)', registers });
    const lookups = this.cacheLookups;
    this.cacheHitRatio = new Gauge({
      name: 'rerank_cache_hit_ratio',
      help: "Hits / lookups of the pair-score cache since this process started (rate() of the two counters gives a window's)",
      labelNames: ['model'],
      registers,
      collect() {
        this.reset();
        for (const [model, { hits, misses }] of lookups) this.set({ model }, hits / Math.max(1, hits + misses));
      },
    });

    const sample = () => this.sampleQueues();
    this.queueJobs = new Gauge({
      name: 'rerank_queue_jobs',
      help: 'Jobs in each model queue by state (waiting, prioritized, active, delayed), read from Redis at scrape time',
      labelNames: ['model', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const depth of await sample()) for (const state of QUEUE_STATES) this.set({ model: depth.model, state }, depth.states[state]);
      },
    });
    this.pendingJobs = new Gauge({
      name: 'rerank_queue_pending_jobs',
      help: 'Jobs not yet started for each model by priority class (interactive, batch in its queue; batch_line in its line queue), read at scrape time',
      labelNames: ['model', 'priority'],
      registers,
      async collect() {
        this.reset();
        for (const depth of await sample()) {
          for (const [priority, count] of Object.entries(depth.pendingByPriority)) this.set({ model: depth.model, priority }, count);
        }
      },
    });
    this.pendingPairs = new Gauge({
      name: 'rerank_queue_pending_pairs',
      help: '(query, document) pairs of the jobs not yet started for each model by priority class (interactive, batch in its queue; batch_line in its line queue), read at scrape time',
      labelNames: ['model', 'priority'],
      registers,
      async collect() {
        this.reset();
        for (const depth of await sample()) {
          for (const [priority, pairs] of Object.entries(depth.pendingPairsByPriority ?? {})) this.set({ model: depth.model, priority }, pairs);
        }
      },
    });
    this.queueSampleErrors = new Counter({
      name: 'rerank_queue_sample_errors_total',
      help: 'Scrapes whose queue counts could not be read from Redis in time (the queue gauges are then absent)',
      registers,
      // Joins the scrape's sample, so a failure in this scrape is counted in this scrape.
      async collect() {
        await sample();
      },
    });
    this.operations = new OperationsMetrics({ registers, sampleQueues: sample, sampleTimeoutMs: this.sampleTimeoutMs });
    const pools = this.poolSources;
    this.poolUtilization = new Gauge({
      name: 'rerank_pool_utilization_ratio',
      help: 'Share of the capacity of an inference pool lane in use since it started (Piscina utilization)',
      labelNames: ['model', 'lane'],
      registers,
      collect() {
        this.reset();
        for (const source of pools) for (const { model, lane, ratio } of source()) this.set({ model, lane }, ratio);
      },
    });
  }

  /** Registers a reader of queue counts; returns its removal (call it when the queues close). */
  addQueueDepthSource(source: QueueDepthSource): () => void {
    this.queueSources.add(source);
    return () => this.queueSources.delete(source);
  }

  /** Registers a reader of pool utilization; returns its removal (call it when the pools close). */
  addPoolUtilizationSource(source: PoolUtilizationSource): () => void {
    this.poolSources.add(source);
    return () => this.poolSources.delete(source);
  }

  /** Records one inference batch in every batch series. */
  /** One lookup of `hits + misses` pairs in the pair-score cache. */
  observeCacheLookup(model: string, hits: number, misses: number): void {
    if (hits > 0) this.cacheHits.inc({ model }, hits);
    if (misses > 0) this.cacheMisses.inc({ model }, misses);
    const seen = this.cacheLookups.get(model) ?? { hits: 0, misses: 0 };
    this.cacheLookups.set(model, { hits: seen.hits + hits, misses: seen.misses + misses });
  }

  observeBatch(model: string, batch: BatchObservation): void {
    this.inferenceDuration.observe({ model }, batch.durationMs / 1000);
    this.batchRows.observe({ model }, batch.rows);
    this.batchTokens.observe({ model }, batch.paddedTokens);
    if (batch.paddedTokens > 0) this.batchPaddingEfficiency.observe({ model }, batch.realTokens / batch.paddedTokens);
    this.pairs.inc({ model }, batch.rows);
    this.tokens.inc({ model }, batch.realTokens);
  }

  /** Records one finished request's re-ranking signals; one document has no order to change, so it is skipped. */
  observeSignals(model: string, signals: SignalsObservation): void {
    if (signals.documents < 2 || signals.kendallTau === null) return;
    this.signalKendallTau.observe({ model }, signals.kendallTau);
    this.signalTop10Kept.observe({ model }, signals.top10KeptFraction);
    if (signals.truncatedFraction !== null) this.signalTruncated.observe({ model }, signals.truncatedFraction);
    this.signalScoreSpread.observe({ model }, signals.scoreSpread);
  }

  /** The text exposition of every metric. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * One Redis round per scrape however many gauges read it: concurrent collects share the
   * sample in flight. A failed or slow read drops the queue series for this scrape only.
   */
  private sampleQueues(): Promise<QueueDepth[]> {
    this.sampling ??= this.readQueueSources().finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  private async readQueueSources(): Promise<QueueDepth[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`queue counts took over ${this.sampleTimeoutMs} ms`)), this.sampleTimeoutMs);
      timer.unref();
    });
    try {
      const all = await Promise.race([Promise.all([...this.queueSources].map((source) => source())), timeout]);
      return all.flat();
    } catch {
      this.queueSampleErrors.inc();
      return [];
    } finally {
      clearTimeout(timer);
    }
  }
}

let processWide: RerankMetrics | undefined;

/**
 * The process's metrics, created on first use with process metrics included. API and worker
 * default to it, so `rerank-pool dev` (both in one process) exposes one coherent registry.
 */
export function processMetrics(): RerankMetrics {
  processWide ??= new RerankMetrics();
  return processWide;
}
