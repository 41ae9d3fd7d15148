import { quantizeModel, type QuantizeResult } from '@rerank-pool/model-quantize';
import { parseCommandArgs } from '../args.js';
import { UsageError } from '../cli-error.js';

export const usage = 'model quantize DIR [--out DIR] [--variant V]';

const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

function formatName(result: QuantizeResult): string {
  const { type, symmetric, perChannel, reduceRange } = result.format;
  return [type, symmetric ? 'symmetric' : 'asymmetric', perChannel ? 'per-channel' : 'per-tensor', ...(reduceRange ? ['7-bit range'] : [])].join(', ');
}

export async function modelQuantize(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('model quantize', argv, {
    out: { type: 'string', value: 'DIR', description: 'Write a complete model directory here (config and tokenizer copied) instead of next to model.onnx' },
    variant: { type: 'string', value: 'V', description: 'Name the file onnx/model_<V>.onnx (default: quantized)' },
  });
  if (positionals.length !== 1) {
    throw new UsageError(`model quantize: give exactly one model directory, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
  }
  const started = Date.now();
  const result = await quantizeModel({
    modelDir: positionals[0]!,
    outDir: values.out,
    variant: values.variant,
    onProgress: ({ phase, done, total, detail }) => {
      if (phase === 'quantize' && done !== total) return;
      const line = phase === 'read' ? `reading ${detail}` : phase === 'quantize' ? `quantized ${total} weights` : `writing ${detail}`;
      process.stderr.write(`model quantize: ${line}\n`);
    },
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const lines = [
    `wrote ${result.onnxPath} (variant ${result.variant}) in ${seconds}s`,
    `  nodes:      ${result.quantizedNodes} MatMul/Gemm quantized (${formatName(result)} weights, activations at run time); ${result.skipped.length} left in float32`,
    ...result.skipped.map((skip) => `              ${skip.node}: ${skip.reason}`),
    `  size:       ${megabytes(result.sourceBytes)} float32 (${result.sourcePath}) -> ${megabytes(result.bytes)} ${result.format.type} (${(result.sourceBytes / result.bytes).toFixed(1)}x smaller)`,
    `  parameters: ${result.parameters.toLocaleString('en-US')} (${(result.parameters / 1e6).toFixed(2)}M), as in the float32 model`,
    ...(result.copiedFiles.length ? [`  copied:     ${result.copiedFiles.join(', ')}`] : []),
    ...(result.opsetRaised ? [`  opset:      raised from ${result.opsetRaised.from} to ${result.opsetRaised.to} (DynamicQuantizeLinear needs it)`] : []),
    `select it with --variant ${result.variant} (score, dev, worker) or MODEL_VARIANT=${result.variant}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
