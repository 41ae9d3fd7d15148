import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { QuantizeError } from './errors.js';
import { copyModelFiles, locateFp32Onnx, requireModelDir } from './model-dir.js';
import { readOnnxModel } from './onnx-model.js';
import { quantizeGraph } from './quantize-graph.js';
import { DEFAULT_WEIGHT_FORMAT, defaultVariant, type WeightFormat } from './weight-format.js';

export interface QuantizeProgress {
  phase: 'read' | 'quantize' | 'write';
  /** Nodes quantized so far (quantize phase), else 0 or 1. */
  done: number;
  total: number;
  detail: string;
}

export interface QuantizeOptions {
  /** A model directory in the Hub layout with `model.onnx` or `onnx/model.onnx` (float32). */
  modelDir: string;
  /** Write here instead of next to the float32 file; config and tokenizer files are copied along. */
  outDir?: string;
  /** Output file `onnx/model_<variant>.onnx`; default from the weight format: `quantized` (int8) or `quint8_avx2` (uint8). */
  variant?: string;
  /** Overrides of the measured default weight format, for measuring others. */
  format?: Partial<WeightFormat>;
  onProgress?: (progress: QuantizeProgress) => void;
}

export interface QuantizeResult {
  /** Absolute path of the written file. */
  onnxPath: string;
  variant: string;
  /** MatMul/Gemm nodes now running on int8 weights. */
  quantizedNodes: number;
  /** Initializer elements, quantized weights counted as their 8-bit elements, scales and zero points not counted; equals the float32 model's. */
  parameters: number;
  sourcePath: string;
  sourceBytes: number;
  bytes: number;
  format: WeightFormat;
  /** MatMul/Gemm nodes left in float32, and why. */
  skipped: { node: string; reason: string }[];
  /** Files copied into `outDir` besides the ONNX file. */
  copiedFiles: string[];
  /** The default-domain opset, when it had to be raised for DynamicQuantizeLinear. */
  opsetRaised?: { from: number; to: number };
}

/** As `model pull --variant` accepts: a file name part, never a path. */
const VARIANT = /^[A-Za-z0-9_-]+$/;

async function writeChunks(path: string, chunks: readonly Uint8Array[]): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  // A temporary name first: a reader never finds a half-written model under the real one.
  const temporary = `${path}.partial-${process.pid}`;
  const handle = await open(temporary, 'w');
  let bytes = 0;
  try {
    for (const chunk of chunks) {
      await handle.write(chunk);
      bytes += chunk.byteLength;
    }
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, path);
  return bytes;
}

export async function quantizeModel(options: QuantizeOptions): Promise<QuantizeResult> {
  const modelDir = resolve(options.modelDir);
  requireModelDir(modelDir);
  const format: WeightFormat = { ...DEFAULT_WEIGHT_FORMAT, ...options.format };
  const variant = options.variant ?? defaultVariant(format);
  if (!VARIANT.test(variant)) {
    throw new QuantizeError('QUANTIZE_INVALID_OPTION', `variant "${variant}" must be letters, digits, _ and -, as in onnx/model_<variant>.onnx`);
  }
  const sourcePath = locateFp32Onnx(modelDir);
  const progress = options.onProgress ?? (() => {});

  progress({ phase: 'read', done: 0, total: 1, detail: sourcePath });
  const bytes = await readFile(sourcePath);
  const model = readOnnxModel(bytes, sourcePath);
  const quantized = quantizeGraph(model, {
    format,
    onNode: (done, total, name) => progress({ phase: 'quantize', done, total, detail: name }),
  });
  if (quantized.quantizedNodes === 0) {
    const reasons = quantized.skipped.map((skip) => `${skip.node}: ${skip.reason}`).join('; ');
    throw new QuantizeError(
      'QUANTIZE_NOTHING_TO_QUANTIZE',
      `${sourcePath} has no MatMul or Gemm with a float32 2-D weight to quantize` + (reasons ? ` (${reasons})` : ''),
    );
  }

  const outDir = options.outDir === undefined ? modelDir : resolve(options.outDir);
  const copiedFiles = outDir === modelDir ? [] : await copyModelFiles(modelDir, outDir);
  const onnxPath = join(outDir, 'onnx', `model_${variant}.onnx`);
  progress({ phase: 'write', done: 0, total: 1, detail: onnxPath });
  const written = await writeChunks(onnxPath, quantized.model.finish());
  return {
    onnxPath,
    variant,
    quantizedNodes: quantized.quantizedNodes,
    parameters: quantized.parameters,
    sourcePath,
    sourceBytes: bytes.byteLength,
    bytes: written,
    format,
    skipped: quantized.skipped,
    copiedFiles,
    opsetRaised: quantized.opsetRaised,
  };
}
