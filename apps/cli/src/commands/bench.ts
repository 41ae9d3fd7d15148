import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { countPairs, driveBatch, driveHttpLoad, generateWorkload, median, percentile, runBareLoop, type BareLoopOptions, type LoopResult, type RerankRequest } from '@rerank-pool/bench';
import type { BatchStats } from '@rerank-pool/batcher';
import { DEFAULT_BATCH_BUDGET } from '@rerank-pool/model-runtime';
import type { SynthPresetName } from '@rerank-pool/model-synth';
import { parseCommandArgs, positiveIntegerArg } from '../args.js';
import { measureCache } from '../bench-cache.js';
import { int8Lines, int8Report, measureInt8, type Int8Report } from '../bench-int8.js';
import { formatMixed, measureMixed, type MixedReport } from '../bench-mixed.js';
import { round } from '../bench-rounding.js';
import { withBenchService } from '../bench-service.js';
import { UsageError } from '../cli-error.js';
import { Progress } from '../progress.js';
import { ensureSyntheticModel } from '../synthetic-model.js';

export const usage = 'bench [--preset tinybert-l2|minilm-l6] [--queries N] [--docs N] [--concurrency N] [--rounds N] [--mixed on|off|only] [--json]';

const PRESETS: readonly SynthPresetName[] = ['tinybert-l2', 'minilm-l6'];
// Sized so each measured phase takes roughly 15-30 s on 2 cores.
const DEFAULT_QUERIES: Record<string, number> = { 'tinybert-l2': 240, 'minilm-l6': 48 };
const DEFAULT_DOCS = 30;
// Enough for a stable median: with 40 the p50 of one run moved by 0.3-0.4 ms between runs.
const LATENCY_SAMPLES = 200;
const LATENCY_WARM_UP = 100;
/**
 * Limit and pipeline are measured in alternating rounds and each reported as its median: this
 * machine's speed drifts by tens of percent over a minute, and one sample of each, minutes
 * apart, made the ratio mostly a measure of that drift.
 */
const DEFAULT_ROUNDS = 2;
/** The batch phase runs the workload this many times over, so it is long next to its start and finish. */
const BATCH_REPEAT = 3;
// The service's own batch budget, so the limit and the naive baseline batch as the worker does.
const BATCH = DEFAULT_BATCH_BUDGET;

export interface BenchReport {
  preset: string;
  pairs: number;
  limit_pairs_per_s: number;
  pipeline_pairs_per_s: number;
  naive_pairs_per_s: number;
  ratio: number;
  padding_efficiency: number;
  latency_ms: { p50: number; p95: number };
  /** The same requests' latency minus the worker's own time: what HTTP, Redis and the queue cost. */
  overhead_ms: { p50: number; p95: number };
  /** The same requests (repeated) as one offline batch through /v1/batches, until its results are written. */
  batch_pairs_per_s: number;
  /** batch / pipeline: the offline path's share of the online pipeline's throughput. */
  batch_ratio: number;
  limit_layouts: Record<string, number>;
  /** The best layout's bare loop, the pipeline and the batch, round by round (pairs/s). */
  rounds: { limit_pairs_per_s: number[]; pipeline_pairs_per_s: number[]; batch_pairs_per_s: number[] };
  /** The fp32 model against its int8 variant through the pipeline: speed and ranking agreement. */
  int8: Int8Report;
  /** 1x20 sync latency idle and during a saturating offline batch, and what it costs the batch (absent with --mixed off). */
  mixed?: MixedReport;
  /** The pair-score cache: the batch phase's workload run twice, then fully cached 1x20 requests. */
  cache: {
    cold_batch_pairs_per_s: number;
    warm_batch_pairs_per_s: number;
    /** warm / cold. */
    speedup: number;
    cached_latency_ms: { p50: number; p95: number };
  };
}

/** Progress lines go to stderr, so that with --json stdout carries only the report. */
function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * The best bare loop over thread layouts and batch budgets: the honest "limit" of this machine,
 * so the pipeline is compared with the best a plain loop can do, not with a handicapped one.
 */
async function sweepLimitLayouts(workload: RerankRequest[], modelDir: string): Promise<{ best: BareLoopOptions; layouts: Record<string, number> }> {
  const cores = availableParallelism();
  const layouts = [
    { sessions: 1, intraOpThreads: cores },
    { sessions: cores, intraOpThreads: 1 },
  ];
  const results: Record<string, number> = {};
  let best: { options: BareLoopOptions; result: LoopResult } | undefined;
  for (const layout of layouts) {
    for (const maxBatchTokens of [2048, 8192]) {
      const options: BareLoopOptions = { modelDir, order: 'sorted', ...layout, ...BATCH, maxBatchTokens };
      const result = await runBareLoop(workload, options);
      results[layoutName(options)] = result.pairsPerSecond;
      log(`limit sweep (bare loop, ${layoutName(options)}): ${result.pairsPerSecond.toFixed(1)} pairs/s`);
      if (!best || result.pairsPerSecond > best.result.pairsPerSecond) best = { options, result };
    }
  }
  return { best: best!.options, layouts: results };
}

/** sessions x intra-op threads @ batch token budget */
function layoutName(options: BareLoopOptions): string {
  return `${options.sessions}x${options.intraOpThreads}@${options.maxBatchTokens}`;
}

export async function bench(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('bench', argv, {
    preset: { type: 'string', default: 'tinybert-l2', value: 'tinybert-l2|minilm-l6', description: 'Synthetic model to measure' },
    queries: { type: 'string', value: 'N', description: 'Queries in the workload (default: 240 for tinybert-l2, 48 for minilm-l6)' },
    docs: { type: 'string', value: 'N', description: `Documents per query (default: ${DEFAULT_DOCS})` },
    concurrency: { type: 'string', value: 'N', description: 'Requests in flight against the pipeline (default: 32)' },
    rounds: { type: 'string', value: 'N', description: `Measured rounds, each reported as its median (default: ${DEFAULT_ROUNDS})` },
    mixed: { type: 'string', default: 'on', value: 'on|off|only', description: 'The mixed section (online latency during an offline batch): run it, skip it, or run nothing else' },
    json: { type: 'boolean', default: false, description: 'Print the report as JSON on stdout' },
  });
  const preset = values.preset as SynthPresetName;
  if (!PRESETS.includes(preset)) throw new UsageError(`bench: --preset must be one of ${PRESETS.join(', ')}, got "${values.preset}"`);
  const queries = positiveIntegerArg('bench', 'queries', values.queries) ?? DEFAULT_QUERIES[preset]!;
  const docs = positiveIntegerArg('bench', 'docs', values.docs) ?? DEFAULT_DOCS;
  const concurrency = positiveIntegerArg('bench', 'concurrency', values.concurrency) ?? 32;
  const rounds = positiveIntegerArg('bench', 'rounds', values.rounds) ?? DEFAULT_ROUNDS;
  const json = values.json;
  const mixedMode = values.mixed;
  if (!['on', 'off', 'only'].includes(mixedMode)) throw new UsageError(`bench: --mixed must be one of on, off, only, got "${mixedMode}"`);

  const modelDir = resolve('.rerank-pool', 'bench', preset);
  await ensureSyntheticModel(preset, modelDir);
  const workload = generateWorkload({ queries, docs, seed: 1 });
  const pairs = countPairs(workload);
  log(`bench: ${preset}, ${queries} queries x ${docs} documents = ${pairs} pairs, ${availableParallelism()} cores`);
  if (mixedMode === 'only') {
    const mixed = await measureMixed(workload, modelDir, { concurrency, rounds, log });
    process.stdout.write(json ? `${JSON.stringify({ preset, pairs, mixed })}\n` : `${[`preset                 ${preset} (${pairs} pairs)`, ...formatMixed(mixed), ''].join('\n')}`);
    return 0;
  }

  const sweep = await sweepLimitLayouts(workload, modelDir);
  const naive = await runBareLoop(workload, { modelDir, order: 'arrival', sessions: 1, intraOpThreads: availableParallelism(), ...BATCH });
  log(`naive (request by request, arrival order): ${naive.pairsPerSecond.toFixed(1)} pairs/s, padding ${naive.paddingEfficiency.toFixed(3)}`);

  const pipeline = await measurePipeline(workload, modelDir, { concurrency, rounds, limitLoop: sweep.best });
  const limit = median(pipeline.limitRounds);
  const throughput = median(pipeline.pipelineRounds);
  const batchThroughput = median(pipeline.batchRounds);
  const int8 = await measureInt8(workload, modelDir, { concurrency, rounds, log });
  const cache = await measureCache(workload, modelDir, { concurrency, log });
  const mixed = mixedMode === 'on' ? await measureMixed(workload, modelDir, { concurrency, rounds, log }) : undefined;
  const report: BenchReport = {
    preset,
    pairs,
    limit_pairs_per_s: round(limit),
    pipeline_pairs_per_s: round(throughput),
    naive_pairs_per_s: round(naive.pairsPerSecond),
    ratio: round(throughput / limit, 3),
    padding_efficiency: round(pipeline.paddingEfficiency, 3),
    latency_ms: { p50: round(pipeline.latency.p50), p95: round(pipeline.latency.p95) },
    overhead_ms: { p50: round(pipeline.overhead.p50), p95: round(pipeline.overhead.p95) },
    batch_pairs_per_s: round(batchThroughput),
    batch_ratio: round(batchThroughput / throughput, 3),
    limit_layouts: Object.fromEntries(Object.entries(sweep.layouts).map(([k, v]) => [k, round(v)])),
    rounds: {
      limit_pairs_per_s: pipeline.limitRounds.map((v) => round(v)),
      pipeline_pairs_per_s: pipeline.pipelineRounds.map((v) => round(v)),
      batch_pairs_per_s: pipeline.batchRounds.map((v) => round(v)),
    },
    int8: int8Report(int8),
    ...(mixed && { mixed }),
    cache: {
      cold_batch_pairs_per_s: round(cache.coldPairsPerSecond),
      warm_batch_pairs_per_s: round(cache.warmPairsPerSecond),
      speedup: round(cache.warmPairsPerSecond / cache.coldPairsPerSecond, 2),
      cached_latency_ms: { p50: round(cache.cachedLatency.p50, 2), p95: round(cache.cachedLatency.p95, 2) },
    },
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    process.stdout.write(
      [
        `preset                 ${preset} (${pairs} pairs)`,
        `limit (bare loop)      ${report.limit_pairs_per_s} pairs/s (${layoutName(sweep.best)}, median of ${rounds} rounds)`,
        `pipeline (HTTP+Redis)  ${report.pipeline_pairs_per_s} pairs/s (median of ${rounds} rounds)`,
        `naive baseline         ${report.naive_pairs_per_s} pairs/s`,
        `ratio pipeline/limit   ${report.ratio}`,
        `padding efficiency     ${report.padding_efficiency}`,
        `latency 1x20 idle      p50 ${report.latency_ms.p50} ms, p95 ${report.latency_ms.p95} ms`,
        `  of which HTTP+queue  p50 ${report.overhead_ms.p50} ms, p95 ${report.overhead_ms.p95} ms`,
        `batch (/v1/batches)    ${report.batch_pairs_per_s} pairs/s (median of ${rounds} rounds)`,
        `ratio batch/pipeline   ${report.batch_ratio}`,
        ...int8Lines(report.int8, rounds),
        ...(report.mixed ? formatMixed(report.mixed) : []),
        `cache: batch again     ${report.cache.warm_batch_pairs_per_s} pairs/s, every pair cached (cold ${report.cache.cold_batch_pairs_per_s}; x${report.cache.speedup})`,
        `cache: 1x20 all cached p50 ${report.cache.cached_latency_ms.p50} ms, p95 ${report.cache.cached_latency_ms.p95} ms (no worker involved)`,
        '',
      ].join('\n'),
    );
  }
  return 0;
}

interface PipelineOptions {
  concurrency: number;
  rounds: number;
  /** The bare loop run before each pipeline round (the limit's best layout). */
  limitLoop: BareLoopOptions;
}

interface PipelineResult {
  limitRounds: number[];
  pipelineRounds: number[];
  batchRounds: number[];
  paddingEfficiency: number;
  latency: { p50: number; p95: number };
  overhead: { p50: number; p95: number };
}

/**
 * The full service (startBenchService); each round runs the limit's bare loop (the service
 * idles meanwhile) and then the HTTP load.
 */
async function measurePipeline(workload: RerankRequest[], modelDir: string, { concurrency, rounds, limitLoop }: PipelineOptions): Promise<PipelineResult> {
  return withBenchService({ modelDir, concurrency }, async ({ worker, baseUrl, model }) => {
    const batches: BatchStats[] = [];
    worker.onBatch((_, stats) => batches.push(stats));

    await driveHttpLoad(workload.slice(0, Math.min(8, workload.length)), { baseUrl, model, concurrency });
    const limitRounds: number[] = [];
    const pipelineRounds: number[] = [];
    const batchRounds: number[] = [];
    const batchWorkload = Array.from({ length: BATCH_REPEAT }, () => workload).flat();
    let real = 0;
    let padded = 0;
    for (let r = 1; r <= rounds; r++) {
      const bare = await runBareLoop(workload, limitLoop);
      limitRounds.push(bare.pairsPerSecond);
      log(`round ${r}/${rounds} limit (bare loop, ${layoutName(limitLoop)}): ${bare.pairsPerSecond.toFixed(1)} pairs/s`);
      batches.length = 0;
      const progress = new Progress({ label: `round ${r}/${rounds} pipeline`, total: workload.length, unit: 'requests' });
      const load = await driveHttpLoad(workload, { baseUrl, model, concurrency, onProgress: (done) => progress.update(done) });
      progress.finish();
      pipelineRounds.push(load.pairsPerSecond);
      const roundReal = batches.reduce((sum, b) => sum + b.realTokens, 0);
      const roundPadded = batches.reduce((sum, b) => sum + b.paddedTokens, 0);
      real += roundReal;
      padded += roundPadded;
      log(`round ${r}/${rounds} pipeline (HTTP -> Redis -> worker, ${concurrency} in flight): ${load.pairsPerSecond.toFixed(1)} pairs/s, padding ${(roundReal / roundPadded).toFixed(3)}, ${batches.length} batches`);

      const batchProgress = new Progress({ label: `round ${r}/${rounds} batch`, total: batchWorkload.length, unit: 'lines' });
      const offline = await driveBatch(batchWorkload, { baseUrl, model, onProgress: (done) => batchProgress.update(done) });
      batchProgress.finish();
      batchRounds.push(offline.pairsPerSecond);
      log(`round ${r}/${rounds} batch (/v1/batches, ${batchWorkload.length} lines, until the results are written): ${offline.pairsPerSecond.toFixed(1)} pairs/s`);
    }

    // Latency of one online request (1 query x 20 documents) on an idle pool, one at a time, on
    // one kept-alive connection as clients use one: a new TCP connection per request added its
    // set-up, the client's cost and not the service's, to every sample (0.3-0.4 ms here).
    const single = Array.from({ length: LATENCY_SAMPLES }, (_, i) => workload[i % workload.length]!).map((request) => ({ query: request.query, documents: request.documents.slice(0, 20) }));
    // Not measured: the first requests after the batch rounds pay for what those left behind
    // (their garbage, the batch lane's threads going idle): here the first 200 after a batch had
    // an overhead p50 0.1-0.4 ms above the next 200.
    await driveHttpLoad(single.slice(0, LATENCY_WARM_UP), { baseUrl, model, concurrency: 1 });
    const idle = await driveHttpLoad(single, { baseUrl, model, concurrency: 1 });
    const samples = idle.latenciesMs;
    const overheads = idle.latenciesMs.map((latency, i) => latency - idle.inferenceMs[i]!);
    return {
      limitRounds,
      pipelineRounds,
      batchRounds,
      paddingEfficiency: real / padded,
      latency: { p50: percentile(samples, 50), p95: percentile(samples, 95) },
      overhead: { p50: percentile(overheads, 50), p95: percentile(overheads, 95) },
    };
  });
}
