import {
  describeModel,
  loadSession,
  pack,
  PairEncoder,
  paddingEfficiency,
  planBatches,
  readModelFiles,
  runBatch,
  type EncodedPair,
  type PlannedBatch,
} from '@rerank-pool/model-runtime';
import type { RerankRequest } from './workload.js';

export interface BareLoopOptions {
  modelDir: string;
  /** Sessions run side by side, each taking the next batch from one shared list. */
  sessions: number;
  /** onnxruntime intra-op threads of each session. */
  intraOpThreads: number;
  /**
   * `sorted`: every pair of the workload length-sorted and cut under the token budget (the limit).
   * `arrival`: each request's documents in the order they came, request by request (the naive baseline).
   */
  order: 'sorted' | 'arrival';
  maxBatchTokens: number;
  maxBatchRows: number;
  /** See planBatches. Default 0. */
  minPaddingEfficiency?: number;
}

export interface LoopResult {
  pairs: number;
  seconds: number;
  pairsPerSecond: number;
  paddingEfficiency: number;
}

/** Each request's documents cut in arrival order, request by request, with no padding floor. */
function arrivalBatches(workload: readonly RerankRequest[], options: BareLoopOptions, lengths: number[]): PlannedBatch[] {
  const batches: PlannedBatch[] = [];
  let first = 0;
  for (const request of workload) {
    const own = lengths.slice(first, first + request.documents.length);
    const plan = planBatches(own, { maxBatchTokens: options.maxBatchTokens, maxBatchRows: options.maxBatchRows, keepOrder: true });
    for (const batch of plan) batches.push({ ...batch, rows: batch.rows.map((row) => first + row) });
    first += own.length;
  }
  return batches;
}

/**
 * Scores a workload with no queue, no HTTP and no thread pool: tokenize on this thread, plan,
 * `session.run`. Sessions are loaded before the clock starts; tokenizing is timed, since a
 * service has to do it too.
 */
export async function runBareLoop(workload: readonly RerankRequest[], options: BareLoopOptions): Promise<LoopResult> {
  const files = readModelFiles(options.modelDir);
  const model = describeModel(files);
  const sessions = await Promise.all(
    Array.from({ length: options.sessions }, () =>
      loadSession({ onnxPath: files.onnxPath, executionProvider: 'cpu', intraOpThreads: options.intraOpThreads, numLabels: model.numLabels }),
    ),
  );
  const encoder = new PairEncoder(files.tokenizer, files.tokenizerConfig, model.maxLength);
  try {
    const started = performance.now();
    const pairs: EncodedPair[] = workload.flatMap((request) => encoder.encode(request.query, request.documents));
    const lengths = pairs.map((pair) => pair.ids.length);
    const plan =
      options.order === 'sorted'
        ? planBatches(lengths, options)
        : arrivalBatches(workload, options, lengths);
    let next = 0;
    await Promise.all(
      sessions.map(async (session) => {
        while (next < plan.length) {
          const batch = plan[next++]!;
          await runBatch(session, pack(batch.rows.map((row) => pairs[row]!)), model.numLabels);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { pairs: pairs.length, seconds, pairsPerSecond: pairs.length / seconds, paddingEfficiency: paddingEfficiency(lengths, plan) };
  } finally {
    await Promise.all(sessions.map((loaded) => loaded.session.release()));
  }
}
