import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeModel, type SynthPresetName } from '@rerank-pool/model-synth';

/** A synthetic model in a temp dir, removed by the returned cleanup. */
export async function withSyntheticModel(preset: SynthPresetName = 'tiny', seed = 7): Promise<{ dir: string; root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'rp-runtime-'));
  const dir = join(root, `synthetic-${preset}`);
  await synthesizeModel({ preset, outDir: dir, seed });
  return { dir, root, cleanup: () => rm(root, { recursive: true, force: true }) };
}
