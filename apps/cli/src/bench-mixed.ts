import { driveHttpLoad, driveMixedLoad, generateWorkload, median, percentile, type MixedLoadResult, type RerankRequest } from '@rerank-pool/bench';
import { processMetrics, type RerankMetrics } from '@rerank-pool/telemetry';
import { round } from './bench-rounding.js';
import { withBenchService } from './bench-service.js';

/** Sync requests timed one at a time on the idle service. */
const IDLE_PROBES = 40;
/** The online requests: 1 query x 20 documents, as a RAG front end sends them. */
const PROBE_DOCS = 20;
/**
 * Between probes during the batch, this many idle p50s: the probes then hold the pool about a
 * fifth of the time or less, light next to the batch, and still give tens of samples.
 */
const PROBE_GAP_IDLE_P50S = 4;

export interface MixedReport {
  /** 1x20 sync latency on the idle service. */
  idle_ms: { p50: number; p95: number };
  /** 1x20 sync latency while the offline batch saturates the pool. */
  during_batch_ms: { p50: number; p95: number };
  /** during_batch p95 / idle p95 (target: at most 2). */
  p95_ratio: number;
  probes: number;
  /** The batch's own pairs/s, alone and with the probes running (median of the rounds). */
  batch_pairs_per_s: { alone: number; with_probes: number };
  /** Batch and probe pairs together per second of the batch with probes: what the pool did. */
  total_pairs_per_s_with_probes: number;
  /** total with probes / batch alone: what scheduling the probes first cost the pool. */
  throughput_ratio: number;
  /** The batch (and the probe) rounds, in order. */
  rounds: { alone: number[]; with_probes: number[] };
  /** Queue wait seen by the worker, per priority class, over the whole phase (ms, mean). */
  queue_wait_mean_ms: Record<string, number>;
  /** Interactive rows that waited for a thread held by a batch-line inference batch. */
  interactive_rows_behind_batch: number;
}

export interface MixedOptions {
  /** Jobs the worker holds at once (WORKER_CONCURRENCY), as in the pipeline phase. */
  concurrency: number;
  /** Rounds of (batch alone, batch with probes); each reported as its median. */
  rounds: number;
  log: (line: string) => void;
}

/**
 * The `mixed` section: the service in this process (as `rerank-pool dev` runs it) on a Redis
 * prefix of its own, an offline batch of `lines` saturating its pool, and 1x20 sync requests sent
 * one at a time during it. What issue 14 asks of the scheduler: online latency during a batch
 * close to idle, and the batch's throughput kept.
 */
export async function measureMixed(lines: RerankRequest[], modelDir: string, { concurrency, rounds, log }: MixedOptions): Promise<MixedReport> {
  // The worker records into the process's registry: the section reports what it added there.
  const metrics = processMetrics();
  const before = await readCounters(metrics);
  return withBenchService({ modelDir, concurrency }, ({ baseUrl, model }) => measure({ baseUrl, model, lines, rounds, log, metrics, before }));
}

interface Phase {
  baseUrl: string;
  model: string;
  lines: RerankRequest[];
  rounds: number;
  log: (line: string) => void;
  metrics: RerankMetrics;
  /** The registry's counters before the service started. */
  before: Counters;
}

async function measure({ baseUrl, model, lines, rounds, log, metrics, before }: Phase): Promise<MixedReport> {
  const probes = generateWorkload({ queries: IDLE_PROBES, docs: PROBE_DOCS, seed: 3 });
  await driveHttpLoad(probes.slice(0, 4), { baseUrl, model, concurrency: 1 });

  const idle: number[] = [];
  for (const probe of probes) idle.push((await driveHttpLoad([probe], { baseUrl, model, concurrency: 1 })).latenciesMs[0]!);
  const idleP50 = percentile(idle, 50);
  log(`mixed: idle 1x${PROBE_DOCS} p50 ${idleP50.toFixed(1)} ms, p95 ${percentile(idle, 95).toFixed(1)} ms`);

  const alone: number[] = [];
  const withProbes: number[] = [];
  const totals: number[] = [];
  const during: number[] = [];
  const probeGapMs = PROBE_GAP_IDLE_P50S * idleP50;
  for (let r = 1; r <= rounds; r++) {
    const solo = await driveMixedLoad({ baseUrl, model, batch: lines, probes: [], probeGapMs });
    alone.push(solo.batch.pairsPerSecond);
    log(`mixed round ${r}/${rounds}: batch alone ${solo.batch.pairsPerSecond.toFixed(1)} pairs/s`);
    const mixed = await driveMixedLoad({ baseUrl, model, batch: lines, probes, probeGapMs });
    withProbes.push(mixed.batch.pairsPerSecond);
    totals.push(totalPairsPerSecond(mixed));
    during.push(...mixed.probeLatenciesMs);
    log(
      `mixed round ${r}/${rounds}: batch with probes ${mixed.batch.pairsPerSecond.toFixed(1)} pairs/s (${totalPairsPerSecond(mixed).toFixed(1)} with the probes' pairs), ` +
        `${mixed.probeLatenciesMs.length} probes p50 ${percentile(mixed.probeLatenciesMs, 50).toFixed(1)} ms, p95 ${percentile(mixed.probeLatenciesMs, 95).toFixed(1)} ms`,
    );
  }
  const after = await readCounters(metrics);
  const batchAlone = median(alone);
  return {
    idle_ms: { p50: round(idleP50), p95: round(percentile(idle, 95)) },
    during_batch_ms: { p50: round(percentile(during, 50)), p95: round(percentile(during, 95)) },
    p95_ratio: round(percentile(during, 95) / percentile(idle, 95), 2),
    probes: during.length,
    batch_pairs_per_s: { alone: round(batchAlone), with_probes: round(median(withProbes)) },
    total_pairs_per_s_with_probes: round(median(totals)),
    throughput_ratio: round(median(totals) / batchAlone, 3),
    rounds: { alone: alone.map((v) => round(v)), with_probes: withProbes.map((v) => round(v)) },
    queue_wait_mean_ms: Object.fromEntries(
      Object.entries(after.queueWait).map(([priority, { sum, count }]) => {
        const earlier = before.queueWait[priority] ?? { sum: 0, count: 0 };
        const n = count - earlier.count;
        return [priority, n > 0 ? round(((sum - earlier.sum) / n) * 1000) : 0];
      }),
    ),
    interactive_rows_behind_batch: after.behind - before.behind,
  };
}

export function formatMixed(report: MixedReport): string[] {
  return [
    `mixed: 1x${PROBE_DOCS} idle        p50 ${report.idle_ms.p50} ms, p95 ${report.idle_ms.p95} ms`,
    `mixed: 1x${PROBE_DOCS} in batch    p50 ${report.during_batch_ms.p50} ms, p95 ${report.during_batch_ms.p95} ms (p95 ${report.p95_ratio}x idle, ${report.probes} probes)`,
    `mixed: batch           ${report.batch_pairs_per_s.alone} pairs/s alone, ${report.batch_pairs_per_s.with_probes} with probes (${report.total_pairs_per_s_with_probes} with their pairs, ${report.throughput_ratio}x)`,
    `mixed: queue wait      ${Object.entries(report.queue_wait_mean_ms).map(([priority, ms]) => `${priority} ${ms} ms`).join(', ')} (mean)`,
    `mixed: interactive rows behind a batch-line batch: ${report.interactive_rows_behind_batch}`,
  ];
}

function totalPairsPerSecond(result: MixedLoadResult): number {
  return (result.batch.pairs + result.probePairs) / result.batch.seconds;
}

interface Counters {
  queueWait: Record<string, { sum: number; count: number }>;
  behind: number;
}

/** The metrics the section reports, read from the registry the worker records into. */
async function readCounters(metrics: RerankMetrics): Promise<Counters> {
  const queueWait: Counters['queueWait'] = {};
  for (const value of (await metrics.queueWait.get()).values) {
    const priority = String(value.labels.priority);
    const entry = (queueWait[priority] ??= { sum: 0, count: 0 });
    if (value.metricName?.endsWith('_sum')) entry.sum += value.value;
    if (value.metricName?.endsWith('_count')) entry.count += value.value;
  }
  const behind = (await metrics.interactiveRowsBehindBatch.get()).values.reduce((sum, value) => sum + value.value, 0);
  return { queueWait, behind };
}
