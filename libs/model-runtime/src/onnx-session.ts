import * as ort from 'onnxruntime-node';
import { ModelRuntimeError } from './errors.js';
import type { ExecutionProvider } from './execution-provider.js';
import { pairLength, type PackedPairs } from './packed-pairs.js';

const KNOWN_INPUTS = new Set(['input_ids', 'attention_mask', 'token_type_ids']);
const REQUIRED_INPUTS = ['input_ids', 'attention_mask'];

export interface SessionSettings {
  onnxPath: string;
  executionProvider: ExecutionProvider;
  intraOpThreads: number;
  numLabels: number;
}

/** A loaded cross-encoder session plus what was learned while loading it. */
export interface LoadedSession {
  session: ort.InferenceSession;
  /** The provider actually in use: CUDA falls back to CPU when it cannot start. */
  executionProvider: ExecutionProvider;
  /** Why a requested provider was not used, for a warning on the main thread. */
  fallbackReason?: string;
}

async function create(settings: SessionSettings, provider: ExecutionProvider): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(settings.onnxPath, {
    executionProviders: [provider],
    intraOpNumThreads: settings.intraOpThreads,
    // One session per pool thread already gives parallelism; inter-op threads would only
    // compete with the other sessions for the same cores.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
}

function checkInputs(session: ort.InferenceSession, onnxPath: string): void {
  const unknown = session.inputNames.filter((name) => !KNOWN_INPUTS.has(name));
  const missing = REQUIRED_INPUTS.filter((name) => !session.inputNames.includes(name));
  if (unknown.length || missing.length) {
    const problems = [
      missing.length ? `missing ${missing.join(', ')}` : '',
      unknown.length ? `unexpected ${unknown.join(', ')}` : '',
    ].filter(Boolean);
    throw new ModelRuntimeError(
      'MODEL_INPUTS_UNSUPPORTED',
      `${onnxPath} declares inputs [${session.inputNames.join(', ')}] (${problems.join('; ')}); ` +
        `a cross-encoder takes input_ids, attention_mask and optionally token_type_ids`,
    );
  }
}

export async function loadSession(settings: SessionSettings): Promise<LoadedSession> {
  let executionProvider = settings.executionProvider;
  let fallbackReason: string | undefined;
  let session: ort.InferenceSession;
  try {
    session = await create(settings, executionProvider);
  } catch (error) {
    if (executionProvider !== 'cuda') {
      throw new ModelRuntimeError(
        'MODEL_ONNX_INVALID',
        `onnxruntime cannot load ${settings.onnxPath}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    fallbackReason = `CUDA execution provider unavailable (${(error as Error).message.split('\n')[0]}); using CPU`;
    executionProvider = 'cpu';
    return loadSession({ ...settings, executionProvider }).then((loaded) => ({ ...loaded, fallbackReason }));
  }
  checkInputs(session, settings.onnxPath);
  return { session, executionProvider, fallbackReason };
}

/**
 * Runs one batch: pads every row to the batch's longest row and feeds only the inputs the
 * session declares. Returns logits, numLabels per row.
 */
export async function runBatch(loaded: LoadedSession, rows: PackedPairs, numLabels: number): Promise<Float32Array> {
  let width = 0;
  for (let row = 0; row < rows.count; row++) width = Math.max(width, pairLength(rows, row));
  const size = rows.count * width;
  const inputIds = new BigInt64Array(size);
  const attention = new BigInt64Array(size);
  const typeIds = new BigInt64Array(size);
  for (let row = 0; row < rows.count; row++) {
    const start = rows.offsets[row]!;
    const length = pairLength(rows, row);
    const base = row * width;
    for (let t = 0; t < length; t++) {
      inputIds[base + t] = BigInt(rows.ids[start + t]!);
      attention[base + t] = 1n;
      typeIds[base + t] = BigInt(rows.typeIds[start + t]!);
    }
  }
  const dims = [rows.count, width];
  const all: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', inputIds, dims),
    attention_mask: new ort.Tensor('int64', attention, dims),
    token_type_ids: new ort.Tensor('int64', typeIds, dims),
  };
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of loaded.session.inputNames) feeds[name] = all[name]!;
  const outputs = await loaded.session.run(feeds);
  const output = outputs[loaded.session.outputNames[0]!]!;
  if (output.data.length !== rows.count * numLabels) {
    throw new ModelRuntimeError(
      'MODEL_OUTPUT_UNSUPPORTED',
      `model output ${loaded.session.outputNames[0]} has shape [${output.dims.join(', ')}], expected [${rows.count}, ${numLabels}]`,
    );
  }
  // A copy detached from onnxruntime's buffer, so it can be transferred to the main thread.
  return Float32Array.from(output.data as Float32Array);
}
