import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PairEncoder } from '@rerank-pool/model-runtime';
import { synthesizeModel, type SynthPresetName } from '@rerank-pool/model-synth';

/** A synthetic model in a temp dir, removed by the returned cleanup. */
export async function withSyntheticModel(preset: SynthPresetName = 'tiny', seed = 7): Promise<{ dir: string; root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'rp-runtime-'));
  const dir = join(root, `synthetic-${preset}`);
  await synthesizeModel({ preset, outDir: dir, seed });
  return { dir, root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** The pair encoder of a model directory, built from its tokenizer files without an inference pool. */
export function pairEncoderOf(dir: string, maxLength: number): PairEncoder {
  const json = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));
  return new PairEncoder(json('tokenizer.json'), json('tokenizer_config.json'), maxLength);
}
