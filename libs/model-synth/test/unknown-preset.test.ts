import { describe, expect, it } from 'vitest';
import { SynthError, synthesizeModel, type SynthPresetName } from '@rerank-pool/model-synth';

describe('when the preset is unknown', () => {
  it('should reject with a SynthError that names it and lists the valid presets', async () => {
    const failure = synthesizeModel({ preset: 'bert-huge' as SynthPresetName, outDir: '/nonexistent/never-created' });
    await expect(failure).rejects.toBeInstanceOf(SynthError);
    await expect(failure).rejects.toMatchObject({
      code: 'SYNTH_UNKNOWN_PRESET',
      message: expect.stringMatching(/"bert-huge".*tiny, tinybert-l2, minilm-l6/),
    });
  });
});

describe('when the seed is not an integer', () => {
  it('should reject with a SynthError naming the seed option', async () => {
    await expect(synthesizeModel({ preset: 'tiny', outDir: '/nonexistent/never-created', seed: 1.5 })).rejects.toMatchObject({
      code: 'SYNTH_INVALID_OPTION',
      message: expect.stringContaining('seed'),
    });
  });
});
