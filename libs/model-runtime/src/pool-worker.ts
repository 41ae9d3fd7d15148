/**
 * Entry point of every Piscina thread: one tokenizer and one InferenceSession per thread,
 * created on the first task and reused for the thread's lifetime.
 */
import { setPriority } from 'node:os';
import { move, workerData } from 'piscina';
import { serializeRuntimeError } from './errors.js';
import { readTokenizerFiles } from './model-files.js';
import { loadSession, runBatch, type LoadedSession } from './onnx-session.js';
import { PairEncoder } from './pair-encoder.js';
import { pack, view } from './packed-pairs.js';
import type { PoolTask, TaskFailure, ThreadDescription, ThreadSetup } from './pool-protocol.js';

interface ThreadState {
  encoder: PairEncoder;
  loaded: LoadedSession;
}

const setup = workerData as ThreadSetup;
let state: Promise<ThreadState> | undefined;
const niceFailure = takeNiceValue(setup.nice);

/** Pid 0 is the calling thread on Linux: the nice value applies to this thread alone. */
function takeNiceValue(nice: number): string | undefined {
  if (nice === 0) return undefined;
  try {
    setPriority(0, nice);
    return undefined;
  } catch (error) {
    return `pool thread could not set its nice value to ${nice} (${(error as Error).message}); it runs at normal priority`;
  }
}

async function init(): Promise<ThreadState> {
  const files = readTokenizerFiles(setup.modelDir);
  const encoder = new PairEncoder(files.tokenizer, files.tokenizerConfig, setup.maxLength);
  const loaded = await loadSession(setup);
  return { encoder, loaded };
}

async function handle(task: PoolTask): Promise<unknown> {
  state ??= init();
  const { encoder, loaded } = await state;
  switch (task.kind) {
    case 'describe':
      return {
        executionProvider: loaded.executionProvider,
        fallbackReason: loaded.fallbackReason,
        niceFailure,
        inputNames: [...loaded.session.inputNames],
      } satisfies ThreadDescription;
    case 'encode':
      return move(pack(encoder.encode(task.query, task.documents, task.options)).buffer);
    case 'infer':
      return move((await runBatch(loaded, view(task.rows), setup.numLabels)).buffer as ArrayBuffer);
  }
}

export default async function run(task: PoolTask): Promise<unknown> {
  try {
    return await handle(task);
  } catch (error) {
    // A failed load would fail every later task the same way; retry it then, since the
    // cause (a file being replaced, say) may have gone.
    if (!(await state?.then(() => true, () => false))) state = undefined;
    return { error: serializeRuntimeError(error) } satisfies TaskFailure;
  }
}
