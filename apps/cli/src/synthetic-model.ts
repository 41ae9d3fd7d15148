import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { synthesizeModel, type SynthPresetName } from '@rerank-pool/model-synth';

/** Writes the synthetic `preset` into `dir` unless an earlier run already did (it is deterministic). */
export async function ensureSyntheticModel(preset: SynthPresetName, dir: string): Promise<void> {
  if (!existsSync(join(dir, 'model.onnx'))) await synthesizeModel({ preset, outDir: dir });
}
