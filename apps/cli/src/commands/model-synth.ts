import { synthesizeModel, SYNTH_PRESETS, type SynthPresetName } from '@rerank-pool/model-synth';
import { parseCommandArgs, positiveIntegerArg, requiredArg } from '../args.js';
import { UsageError } from '../cli-error.js';

export const usage = 'model synth --preset tiny|tinybert-l2|minilm-l6 --out DIR [--seed N]';

export async function modelSynth(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('model synth', argv, {
    preset: { type: 'string', value: 'tiny|tinybert-l2|minilm-l6', description: 'Architecture of the synthetic model (required)' },
    out: { type: 'string', value: 'DIR', description: 'Directory to write the model to (required)' },
    seed: { type: 'string', value: 'N', description: 'Seed of the random weights' },
  });
  const preset = requiredArg('model synth', 'preset', values.preset);
  if (!(preset in SYNTH_PRESETS)) {
    throw new UsageError(`model synth: unknown preset "${preset}"; choose one of ${Object.keys(SYNTH_PRESETS).join(', ')}`);
  }
  const started = Date.now();
  const model = await synthesizeModel({
    preset: preset as SynthPresetName,
    outDir: requiredArg('model synth', 'out', values.out),
    seed: positiveIntegerArg('model synth', 'seed', values.seed),
  });
  process.stdout.write(
    `wrote synthetic ${model.preset} (${(model.parameterCount / 1e6).toFixed(2)}M parameters) to ${model.dir} ` +
      `in ${((Date.now() - started) / 1000).toFixed(1)}s\n` +
      `its scores are meaningless: it has the real model's shapes and speed, not its weights\n`,
  );
  return 0;
}
