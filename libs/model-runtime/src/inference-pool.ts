import { Piscina } from 'piscina';
import { ModelRuntimeError, isSerializedRuntimeError, reviveRuntimeError, type SerializedRuntimeError } from './errors.js';
import type { ExecutionProvider } from './execution-provider.js';
import { readModelFiles } from './model-files.js';
import { describeModel, type ModelInfo } from './model-info.js';
import { planBatches, paddingEfficiency } from './batch-planner.js';
import type { PairEncodeOptions } from './pair-encoder.js';
import { concat, gather, pairLength, view, type PackedPairs } from './packed-pairs.js';
import { BATCH_LANE_IDLE_MS, POOL_LANES, resolvePoolOptions, type InferencePoolOptions, type PoolLane, type ResolvedPoolOptions } from './pool-options.js';
import type { PoolTask, ThreadDescription, ThreadSetup } from './pool-protocol.js';
import { documentScores, type ChunkChoice } from './chunk-scores.js';

export interface ScoreResult {
  /** Relevance score per input document, in input order. */
  scores: number[];
  /** Raw logit (or two-label margin) per input document, in input order. */
  logits: number[];
  /** Tokens of every pair, special tokens included. */
  inputTokens: number;
  /** The best chunk of each document (count 1 for a document scored as one row). */
  chunks: ChunkChoice[];
  /** Indices of documents that were truncated to fit. */
  truncated: number[];
  /** Real tokens / computed tokens over the batches this call ran. */
  paddingEfficiency: number;
}

// Below this many documents one thread encodes faster than the hand-off to two costs.
const MIN_ENCODE_CHUNK = 32;

/**
 * Worker threads for one model, each holding its own tokenizer and onnxruntime session, in two
 * lanes. The interactive lane runs sync requests and interactive jobs; the batch lane runs
 * offline batch lines and batch-priority jobs on threads of its own, started when batch work
 * arrives and stopped when it has been idle a while. Batch threads run at a higher nice value,
 * so when both lanes have work the kernel gives the cores to the interactive threads at once:
 * an interactive request never waits for a batch-line batch to finish (a batch on a thread
 * cannot be taken back) nor for a thread to free. Tokenization and inference both run in the
 * threads; the calling thread only plans batches and moves packed buffers.
 */
export class InferencePool {
  readonly model: ModelInfo;
  readonly executionProvider: ExecutionProvider;
  /** The inputs the ONNX graph declares; only these are fed. */
  readonly inputNames: readonly string[];
  readonly options: ResolvedPoolOptions;
  private readonly lanes: Record<PoolLane, Piscina>;
  private closing: Promise<void> | undefined;
  private readonly tasks: Record<PoolLane, number> = { interactive: 0, batch: 0 };
  /** Set once the batch lane's first thread has said how it started (its nice value). */
  private batchLaneDescribed = false;

  private constructor(model: ModelInfo, options: ResolvedPoolOptions, lanes: Record<PoolLane, Piscina>, description: ThreadDescription) {
    this.model = model;
    this.options = options;
    this.lanes = lanes;
    this.executionProvider = description.executionProvider;
    this.inputNames = description.inputNames;
  }

  /** Reads and checks the model, starts the interactive threads and waits until a session has loaded. */
  static async open(options: InferencePoolOptions): Promise<InferencePool> {
    const resolved = resolvePoolOptions(options);
    const files = readModelFiles(resolved.modelDir, { variant: resolved.variant });
    const model = describeModel(files, resolved.modelId);
    if (resolved.maxLength !== undefined) {
      if (resolved.maxLength > model.maxLength) {
        throw new ModelRuntimeError('INVALID_OPTION', `maxLength ${resolved.maxLength} exceeds the model's limit of ${model.maxLength} tokens`);
      }
      model.maxLength = resolved.maxLength;
    }
    const setup = (nice: number): ThreadSetup => ({
      modelDir: files.dir,
      onnxPath: files.onnxPath,
      maxLength: model.maxLength,
      numLabels: model.numLabels,
      executionProvider: resolved.executionProvider,
      intraOpThreads: resolved.intraOpThreads,
      nice,
    });
    const filename = new URL('./pool-worker.js', import.meta.url).href;
    const lanes: Record<PoolLane, Piscina> = {
      interactive: new Piscina({ filename, minThreads: resolved.threads, maxThreads: resolved.threads, idleTimeout: Infinity, workerData: setup(0) }),
      // No threads (and no sessions' memory) until batch work comes.
      batch: new Piscina({ filename, minThreads: 0, maxThreads: resolved.batchThreads, idleTimeout: BATCH_LANE_IDLE_MS, workerData: setup(resolved.batchNice) }),
    };
    try {
      // One describe per thread would be ideal, but Piscina does not address threads; the
      // first load proves the model, the others load in parallel as the threads start.
      const description = await runTask<ThreadDescription>(lanes.interactive, { kind: 'describe' });
      if (description.fallbackReason) resolved.onWarning(description.fallbackReason);
      return new InferencePool(model, resolved, lanes, description);
    } catch (error) {
      await Promise.all([lanes.interactive.destroy(), lanes.batch.destroy()]);
      throw error;
    }
  }

  /** Tokenizes (query, document) pairs on the threads of `lane`. */
  async encode(query: string, documents: readonly string[], options: PairEncodeOptions = {}, lane: PoolLane = 'interactive'): Promise<PackedPairs> {
    this.assertOpen();
    const chunk = Math.max(MIN_ENCODE_CHUNK, Math.ceil(documents.length / this.laneThreads(lane)));
    const parts: Promise<ArrayBuffer>[] = [];
    for (let start = 0; start < documents.length || start === 0; start += chunk) {
      parts.push(this.run<ArrayBuffer>(lane, { kind: 'encode', query, documents: documents.slice(start, start + chunk), options }));
      if (documents.length === 0) break;
    }
    const packed = (await Promise.all(parts)).map(view);
    return packed.length === 1 ? packed[0]! : concat(packed);
  }

  /**
   * Runs one inference batch on the threads of `lane` and returns its logits (numLabels per
   * row). The rows' buffer is transferred to the thread, so `rows` is unusable afterwards.
   */
  async infer(rows: PackedPairs, lane: PoolLane = 'interactive'): Promise<Float32Array> {
    this.assertOpen();
    return new Float32Array(await this.run<ArrayBuffer>(lane, { kind: 'infer', rows: rows.buffer }, [rows.buffer]));
  }

  /** Scores one query against its documents: encode, length-sorted batches, map back (a chunked document scores as its best chunk). */
  async score(query: string, documents: readonly string[], options: PairEncodeOptions = {}): Promise<ScoreResult> {
    const encoded = await this.encode(query, documents, options);
    const lengths = Array.from({ length: encoded.count }, (_, i) => pairLength(encoded, i));
    const plan = planBatches(lengths, this.options);
    const labels = this.model.numLabels;
    const rowLogits = new Float32Array(encoded.count * labels);
    await Promise.all(
      plan.map(async (batch) => {
        const out = await this.infer(gather(batch.rows.map((index) => ({ source: encoded, index }))));
        batch.rows.forEach((index, row) => rowLogits.set(out.subarray(row * labels, (row + 1) * labels), index * labels));
      }),
    );
    const perDocument = documentScores(encoded, rowLogits, labels);
    return {
      scores: perDocument.scores,
      logits: perDocument.logits,
      chunks: perDocument.chunks,
      inputTokens: lengths.reduce((sum, n) => sum + n, 0),
      truncated: perDocument.truncated.flatMap((cut, document) => (cut ? [document] : [])),
      paddingEfficiency: paddingEfficiency(lengths, plan),
    };
  }

  /** The most threads `lane` runs (`threads`, `batchThreads`). */
  laneThreads(lane: PoolLane): number {
    return lane === 'batch' ? this.options.batchThreads : this.options.threads;
  }

  /**
   * Tasks (tokenization and inference) running or queued on the threads of `lane` now: what a
   * scheduler needs to know whether a task it hands over would start at once.
   */
  activeTasks(lane: PoolLane): number {
    return this.tasks[lane];
  }

  /** Fraction of the lane's capacity in use since it started, as Piscina measures it. */
  utilization(lane: PoolLane): number {
    return this.lanes[lane].utilization;
  }

  /**
   * Lets running tasks finish, then stops the threads; tasks still waiting for a thread are
   * dropped (they reject): a stopping worker has handed their jobs back. Safe to call more than once.
   */
  close(timeoutMs = 30_000): Promise<void> {
    this.closing ??= (async () => {
      const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, timeoutMs, 'timeout').unref());
      const lanes = POOL_LANES.map((lane) => this.lanes[lane]);
      try {
        if ((await Promise.race([Promise.all(lanes.map((lane) => lane.close({ force: true }))), timer])) === 'timeout') await Promise.all(lanes.map((lane) => lane.destroy()));
      } finally {
        await Promise.all(lanes.map((lane) => lane.destroy().catch(() => undefined)));
      }
    })();
    return this.closing;
  }

  /** Runs `task` on `lane`, counted until it settles (counted down before its caller sees the result). */
  private async run<T>(lane: PoolLane, task: PoolTask, transferList?: ArrayBuffer[]): Promise<T> {
    if (lane === 'batch' && !this.batchLaneDescribed) this.describeBatchLane();
    this.tasks[lane]++;
    try {
      return await runTask<T>(this.lanes[lane], task, transferList);
    } finally {
      this.tasks[lane]--;
    }
  }

  /** Warns, once, when the batch lane's threads could not lower their priority: the lanes would then share the cores evenly. */
  private describeBatchLane(): void {
    this.batchLaneDescribed = true;
    runTask<ThreadDescription>(this.lanes.batch, { kind: 'describe' }).then(
      (description) => description.niceFailure && this.options.onWarning(description.niceFailure),
      // A thread that cannot load fails the batch work itself, with its reason; look again next time.
      () => (this.batchLaneDescribed = false),
    );
  }

  private assertOpen(): void {
    if (this.closing) throw new ModelRuntimeError('POOL_CLOSED', `the inference pool for ${this.model.id} is closed`);
  }
}

async function runTask<T>(piscina: Piscina, task: PoolTask, transferList?: ArrayBuffer[]): Promise<T> {
  const result: unknown = await piscina.run(task, transferList ? { transferList } : {});
  if (isFailure(result)) throw reviveRuntimeError(result.error);
  return result as T;
}

function isFailure(value: unknown): value is { error: SerializedRuntimeError } {
  return typeof value === 'object' && value !== null && 'error' in value && isSerializedRuntimeError((value as { error: unknown }).error);
}
