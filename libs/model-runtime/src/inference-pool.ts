import { Piscina } from 'piscina';
import { ModelRuntimeError, isSerializedRuntimeError, reviveRuntimeError, type SerializedRuntimeError } from './errors.js';
import type { ExecutionProvider } from './execution-provider.js';
import { readModelFiles } from './model-files.js';
import { describeModel, type ModelInfo } from './model-info.js';
import { planBatches, paddingEfficiency } from './batch-planner.js';
import type { PairEncodeOptions } from './pair-encoder.js';
import { concat, gather, pairLength, view, type PackedPairs } from './packed-pairs.js';
import { resolvePoolOptions, type InferencePoolOptions, type ResolvedPoolOptions } from './pool-options.js';
import type { PoolTask, ThreadDescription, ThreadSetup } from './pool-protocol.js';
import { PriorityTaskQueue, withPriority, type TaskPriority } from './priority-task-queue.js';
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
 * A pool of worker threads, each holding its own tokenizer and onnxruntime session for one
 * model. Tokenization and inference both run in the threads; the calling thread only plans
 * batches and moves packed buffers.
 */
export class InferencePool {
  readonly model: ModelInfo;
  readonly executionProvider: ExecutionProvider;
  /** The inputs the ONNX graph declares; only these are fed. */
  readonly inputNames: readonly string[];
  readonly options: ResolvedPoolOptions;
  private readonly piscina: Piscina;
  private closing: Promise<void> | undefined;
  private tasks = 0;

  private constructor(model: ModelInfo, options: ResolvedPoolOptions, piscina: Piscina, description: ThreadDescription) {
    this.model = model;
    this.options = options;
    this.piscina = piscina;
    this.executionProvider = description.executionProvider;
    this.inputNames = description.inputNames;
  }

  /** Reads and checks the model, starts the threads and waits until a session has loaded. */
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
    const setup: ThreadSetup = {
      modelDir: files.dir,
      onnxPath: files.onnxPath,
      maxLength: model.maxLength,
      numLabels: model.numLabels,
      executionProvider: resolved.executionProvider,
      intraOpThreads: resolved.intraOpThreads,
    };
    const piscina = new Piscina({
      filename: new URL('./pool-worker.js', import.meta.url).href,
      minThreads: resolved.threads,
      maxThreads: resolved.threads,
      idleTimeout: Infinity,
      workerData: setup,
      taskQueue: new PriorityTaskQueue(),
      // A task taken from the queue when no thread can run it goes back to the head, not the
      // tail (Piscina's default), which would reorder both lanes.
      stricterFIFO: true,
    });
    try {
      // One describe per thread would be ideal, but Piscina does not address threads; the
      // first load proves the model, the others load in parallel as the threads start.
      const description = await runTask<ThreadDescription>(piscina, { kind: 'describe' });
      if (description.fallbackReason) resolved.onWarning(description.fallbackReason);
      return new InferencePool(model, resolved, piscina, description);
    } catch (error) {
      await piscina.destroy();
      throw error;
    }
  }

  /** Tokenizes (query, document) pairs on the pool's threads; `priority` says which tasks waiting for a thread it goes before. */
  async encode(query: string, documents: readonly string[], options: PairEncodeOptions = {}, priority: TaskPriority = 'interactive'): Promise<PackedPairs> {
    this.assertOpen();
    const chunk = Math.max(MIN_ENCODE_CHUNK, Math.ceil(documents.length / this.options.threads));
    const parts: Promise<ArrayBuffer>[] = [];
    for (let start = 0; start < documents.length || start === 0; start += chunk) {
      const task = withPriority<PoolTask>({ kind: 'encode', query, documents: documents.slice(start, start + chunk), options }, priority);
      parts.push(this.counted(runTask<ArrayBuffer>(this.piscina, task)));
      if (documents.length === 0) break;
    }
    const packed = (await Promise.all(parts)).map(view);
    return packed.length === 1 ? packed[0]! : concat(packed);
  }

  /**
   * Runs one inference batch and returns its logits (numLabels per row). The rows' buffer is
   * transferred to the thread, so `rows` is unusable afterwards.
   */
  async infer(rows: PackedPairs, priority: TaskPriority = 'interactive'): Promise<Float32Array> {
    this.assertOpen();
    const task = withPriority<PoolTask>({ kind: 'infer', rows: rows.buffer }, priority);
    return new Float32Array(await this.counted(runTask<ArrayBuffer>(this.piscina, task, [rows.buffer])));
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

  /**
   * Tasks (tokenization and inference) running or queued on the threads now: what a scheduler
   * needs to know whether a task it hands over would start at once.
   */
  get activeTasks(): number {
    return this.tasks;
  }

  /** Fraction of the pool's capacity in use since it started, as Piscina measures it. */
  get utilization(): number {
    return this.piscina.utilization;
  }

  /** Lets running batches finish, then stops the threads. Safe to call more than once. */
  close(timeoutMs = 30_000): Promise<void> {
    this.closing ??= (async () => {
      const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, timeoutMs, 'timeout').unref());
      try {
        if ((await Promise.race([this.piscina.close(), timer])) === 'timeout') await this.piscina.destroy();
      } finally {
        await this.piscina.destroy().catch(() => undefined);
      }
    })();
    return this.closing;
  }

  /** Counts the task until it settles: counted down before its caller sees the result. */
  private async counted<T>(task: Promise<T>): Promise<T> {
    this.tasks++;
    try {
      return await task;
    } finally {
      this.tasks--;
    }
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
