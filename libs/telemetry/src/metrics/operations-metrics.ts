import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { containerMemoryLimitBytes } from './memory-limit.js';
import type { QueueDepth } from './queue-depth.js';
import { WEBHOOK_OUTCOMES } from './operations-sources.js';
import type { BatchProgressSource, LoadedModelSource, RedisProbe, WebhookOutcome } from './operations-sources.js';

/**
 * Per-batch series name one batch id each: only running batches get them, and at most this many
 * (oldest first), so a burst of batches cannot mint an unbounded number of series.
 */
export const MAX_BATCH_PROGRESS_SERIES = 50;

export interface OperationsMetricsOptions {
  registers: Registry[];
  /** The scrape's shared read of the queue sources (RerankMetrics's). */
  sampleQueues: () => Promise<QueueDepth[]>;
  /** Longest a scrape waits for a batch source or a Redis probe. */
  sampleTimeoutMs: number;
}

/** `promise`'s value, or `fallback` when it rejects or takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.catch(() => fallback), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The series dashboards and alerts need beyond throughput and latency: how stale the queues are,
 * whether any worker serves a model, offline batch progress, Redis reachability, memory headroom,
 * which weights serve traffic, webhook outcomes. Part of RerankMetrics (its `operations`); the
 * state ones are read at scrape time from sources the apps register, like the queue gauges.
 */
export class OperationsMetrics {
  /** Worker: one webhook delivery attempt by outcome. */
  readonly webhookDeliveries: Counter<'outcome'>;
  private readonly batchSources = new Set<BatchProgressSource>();
  private readonly redisProbes = new Set<RedisProbe>();
  private readonly modelSources = new Set<LoadedModelSource>();
  private batchReading?: Promise<Awaited<ReturnType<BatchProgressSource>>>;

  constructor({ registers, sampleQueues, sampleTimeoutMs }: OperationsMetricsOptions) {
    new Gauge({
      name: 'rerank_queue_oldest_pending_age_seconds',
      help: 'Seconds since the next job of each model queue and priority class was enqueued (absent when none waits), read at scrape time',
      labelNames: ['model', 'priority'],
      registers,
      async collect() {
        this.reset();
        for (const depth of await sampleQueues()) {
          for (const [priority, age] of Object.entries(depth.oldestPendingAgeSecondsByPriority ?? {})) this.set({ model: depth.model, priority }, age);
        }
      },
    });
    new Gauge({
      name: 'rerank_queue_live_workers',
      help: 'Workers whose heartbeat for the model has not expired, read at scrape time',
      labelNames: ['model'],
      registers,
      async collect() {
        this.reset();
        for (const depth of await sampleQueues()) if (depth.liveWorkers !== undefined) this.set({ model: depth.model }, depth.liveWorkers);
      },
    });

    const readBatches = () => this.readBatches(sampleTimeoutMs);
    new Gauge({
      name: 'rerank_batches',
      help: 'Unfinished offline batches by status (queued, running, finalizing), read at scrape time',
      labelNames: ['status'],
      registers,
      async collect() {
        this.reset();
        const batches = await readBatches();
        if (!batches) return;
        for (const status of ['queued', 'running', 'finalizing']) this.set({ status }, batches.filter((b) => b.status === status).length);
      },
    });
    const running = async () => (await readBatches())?.filter((b) => b.status === 'running').slice(0, MAX_BATCH_PROGRESS_SERIES) ?? [];
    new Gauge({
      name: 'rerank_batch_settled_lines',
      help: `Lines with a result of each running offline batch (the ${MAX_BATCH_PROGRESS_SERIES} oldest), read at scrape time`,
      labelNames: ['batch_id'],
      registers,
      async collect() {
        this.reset();
        for (const batch of await running()) this.set({ batch_id: batch.batchId }, batch.settledLines);
      },
    });
    new Gauge({
      name: 'rerank_batch_total_lines',
      help: `Lines of each running offline batch so far (the ${MAX_BATCH_PROGRESS_SERIES} oldest), read at scrape time`,
      labelNames: ['batch_id'],
      registers,
      async collect() {
        this.reset();
        for (const batch of await running()) this.set({ batch_id: batch.batchId }, batch.totalLines);
      },
    });

    const probes = this.redisProbes;
    new Gauge({
      name: 'rerank_redis_up',
      help: "1 when this process's queue Redis answered a PING at scrape time, else 0",
      // Labelled, so a process without a probe exports no sample (an unlabelled gauge would read 0: down).
      labelNames: ['connection'],
      registers,
      async collect() {
        this.reset();
        if (probes.size === 0) return;
        const answers = await Promise.all([...probes].map((probe) => within(probe(), sampleTimeoutMs, false)));
        this.set({ connection: 'queue' }, answers.every(Boolean) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'rerank_process_memory_limit_bytes',
      help: "Memory limit of the process's container from its cgroup (+Inf without one): compare with process_resident_memory_bytes",
      registers,
      collect() {
        this.set(containerMemoryLimitBytes());
      },
    });
    const models = this.modelSources;
    new Gauge({
      name: 'rerank_model_info',
      help: 'Always 1, per model a worker serves, labelled with the weight type of its ONNX file (float32, int8, ...)',
      labelNames: ['model', 'dtype'],
      registers,
      collect() {
        this.reset();
        for (const source of models) for (const { model, dtype } of source()) this.set({ model, dtype }, 1);
      },
    });

    this.webhookDeliveries = new Counter({
      name: 'rerank_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered (2xx) or failed; given_up counts the failed attempts that were the last (a subset of failed)',
      labelNames: ['outcome'],
      registers,
    });
  }

  /** Registers a reader of unfinished batches; returns its removal. */
  addBatchProgressSource(source: BatchProgressSource): () => void {
    this.batchSources.add(source);
    return () => this.batchSources.delete(source);
  }

  /** Registers a check of a Redis connection; returns its removal. */
  addRedisProbe(probe: RedisProbe): () => void {
    this.redisProbes.add(probe);
    return () => this.redisProbes.delete(probe);
  }

  /** Registers a reader of the models a worker serves; returns its removal. */
  addLoadedModelSource(source: LoadedModelSource): () => void {
    this.modelSources.add(source);
    return () => this.modelSources.delete(source);
  }

  /** One delivery attempt's outcome (a last failed attempt is counted as failed and as given_up). */
  countWebhookOutcome(outcome: WebhookOutcome): void {
    this.webhookDeliveries.inc({ outcome });
  }

  /** Declares every outcome at 0 (the process delivers webhooks): rate() then reads 0, not nothing. */
  startWebhookCounts(): void {
    for (const outcome of WEBHOOK_OUTCOMES) this.webhookDeliveries.inc({ outcome }, 0);
  }

  /**
   * One read per scrape for the three batch gauges; undefined when no source is registered, or
   * when one failed or was slow (then the batch series are absent for this scrape).
   */
  private readBatches(timeoutMs: number): Promise<Awaited<ReturnType<BatchProgressSource>> | undefined> {
    if (this.batchSources.size === 0) return Promise.resolve(undefined);
    this.batchReading ??= Promise.all([...this.batchSources].map((source) => source()))
      .then((all) => all.flat())
      .finally(() => {
        this.batchReading = undefined;
      });
    return within<Awaited<ReturnType<BatchProgressSource>> | undefined>(this.batchReading, timeoutMs, undefined);
  }
}
