import { driveHttpLoad, median, rankAgreement, type RankAgreement, type RerankRequest } from '@rerank-pool/bench';
import { quantizeModel } from '@rerank-pool/model-quantize';
import { round } from './bench-rounding.js';
import { startBenchService, withBenchRedis, type BenchService } from './bench-service.js';
import { Progress } from './progress.js';

export interface Int8PhaseOptions {
  concurrency: number;
  rounds: number;
  /** Where progress lines go. */
  log: (line: string) => void;
}

export interface Int8Measurement {
  /** The quantized file's variant, `onnx/model_<variant>.onnx`. */
  variant: string;
  quantizedNodes: number;
  /** Pipeline pairs/s of each precision, round by round. */
  fp32Rounds: number[];
  int8Rounds: number[];
  /** How alike the two rank each query's documents (int8 against fp32, on the whole workload). */
  agreement: RankAgreement;
}

type Precision = 'fp32' | 'int8';

/**
 * The fp32 model against its int8 variant, each through the full pipeline: two services side by
 * side on prefixes of their own, driven with the same workload in alternating rounds. Round 1
 * runs fp32 then int8, round 2 int8 then fp32, and so on, so a steady drift in the machine's
 * speed favours neither; each side is reported as its median.
 */
export async function measureInt8(workload: RerankRequest[], modelDir: string, { concurrency, rounds, log }: Int8PhaseOptions): Promise<Int8Measurement> {
  // Quantized on every run, like a user would, so the numbers are of the current quantizer.
  const quantized = await quantizeModel({ modelDir });
  log(`int8: quantized ${quantized.quantizedNodes} nodes into ${quantized.onnxPath}`);
  return withBenchRedis(async (redisUrl) => {
    const services: Partial<Record<Precision, BenchService>> = {};
    try {
      services.fp32 = await startBenchService({ redisUrl, modelDir, concurrency });
      services.int8 = await startBenchService({ redisUrl, modelDir, concurrency, variant: quantized.variant });
      await expectDtype(services.fp32, 'float32');
      await expectDtype(services.int8, 'int8');
      const warmUp = workload.slice(0, Math.min(8, workload.length));
      for (const service of [services.fp32, services.int8]) await driveHttpLoad(warmUp, { baseUrl: service.baseUrl, model: service.model, concurrency });

      const measured: Record<Precision, number[]> = { fp32: [], int8: [] };
      const scores: Partial<Record<Precision, number[][]>> = {};
      for (let r = 1; r <= rounds; r++) {
        const order: Precision[] = r % 2 === 1 ? ['fp32', 'int8'] : ['int8', 'fp32'];
        for (const precision of order) {
          const service = services[precision]!;
          const progress = new Progress({ label: `int8 round ${r}/${rounds} ${precision}`, total: workload.length, unit: 'requests' });
          const load = await driveHttpLoad(workload, {
            baseUrl: service.baseUrl,
            model: service.model,
            concurrency,
            keepScores: scores[precision] === undefined,
            onProgress: (done) => progress.update(done),
          });
          progress.finish();
          measured[precision].push(load.pairsPerSecond);
          scores[precision] ??= load.scores;
          log(`int8 round ${r}/${rounds} ${precision} pipeline: ${load.pairsPerSecond.toFixed(1)} pairs/s`);
        }
      }
      const agreement = rankAgreement(scores.fp32!, scores.int8!);
      return { variant: quantized.variant, quantizedNodes: quantized.quantizedNodes, fp32Rounds: measured.fp32, int8Rounds: measured.int8, agreement };
    } finally {
      await services.int8?.close();
      await services.fp32?.close();
    }
  });
}

/**
 * The worker says which weights it loaded (TEI's GET /info reads its heartbeat): a variant the
 * worker ignored would otherwise measure fp32 against itself and report a ratio near 1.
 */
async function expectDtype(service: BenchService, dtype: string): Promise<void> {
  const response = await fetch(new URL('/info', service.baseUrl));
  const info = (await response.json()) as { model_dtype?: string | null };
  if (info.model_dtype !== dtype) {
    throw new Error(`bench: the ${dtype} service's worker loaded ${info.model_dtype ?? 'an unknown dtype'} weights (GET /info answered ${response.status})`);
  }
}

/** The `int8` key of the bench report. */
export interface Int8Report {
  variant: string;
  quantized_nodes: number;
  fp32_pairs_per_s: number;
  int8_pairs_per_s: number;
  /** int8 / fp32 pipeline pairs/s. */
  ratio: number;
  /** Mean over queries of Spearman's rho between the two precisions' scores of its documents. */
  spearman_mean: number | null;
  /** Queries left out of spearman_mean: one precision scored all their documents alike. */
  spearman_undefined_queries: number;
  /** Mean over queries of |top10 fp32 ∩ top10 int8| / 10 (all documents when fewer than 10). */
  top10_overlap_mean: number;
  rounds: { fp32_pairs_per_s: number[]; int8_pairs_per_s: number[] };
}

export function int8Report(measurement: Int8Measurement): Int8Report {
  const fp32 = median(measurement.fp32Rounds);
  const int8 = median(measurement.int8Rounds);
  const { agreement } = measurement;
  return {
    variant: measurement.variant,
    quantized_nodes: measurement.quantizedNodes,
    fp32_pairs_per_s: round(fp32),
    int8_pairs_per_s: round(int8),
    ratio: round(int8 / fp32, 3),
    spearman_mean: agreement.spearmanMean === null ? null : round(agreement.spearmanMean, 4),
    spearman_undefined_queries: agreement.spearmanUndefined,
    top10_overlap_mean: round(agreement.topKOverlapMean, 4),
    rounds: { fp32_pairs_per_s: measurement.fp32Rounds.map((v) => round(v)), int8_pairs_per_s: measurement.int8Rounds.map((v) => round(v)) },
  };
}

/** The human report's lines for the int8 comparison. */
export function int8Lines(report: Int8Report, rounds: number): string[] {
  const undefinedNote = report.spearman_undefined_queries > 0 ? ` (${report.spearman_undefined_queries} all-tied queries left out)` : '';
  return [
    `fp32 pipeline          ${report.fp32_pairs_per_s} pairs/s (median of ${rounds} rounds, alternating with int8)`,
    `int8 pipeline          ${report.int8_pairs_per_s} pairs/s (model_${report.variant}.onnx, ${report.quantized_nodes} nodes quantized)`,
    `ratio int8/fp32        ${report.ratio} (target >= 1.35)`,
    `int8 vs fp32 ranking   Spearman ${report.spearman_mean ?? 'undefined'} mean per query${undefinedNote}, top-10 overlap ${report.top10_overlap_mean}`,
  ];
}
