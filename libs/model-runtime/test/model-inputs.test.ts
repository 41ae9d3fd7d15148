import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferencePool, gather, relevanceScore } from '@rerank-pool/model-runtime';
import { synthesizeModel } from '@rerank-pool/model-synth';

describe('when a model has no token_type_ids input, as XLM-R exports do', () => {
  let root: string;
  let bert: InferencePool;
  let xlmr: InferencePool;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-inputs-'));
    await synthesizeModel({ preset: 'tiny', outDir: join(root, 'bert'), seed: 4 });
    await synthesizeModel({ preset: 'tiny', outDir: join(root, 'xlmr'), seed: 4, tokenTypeInput: false });
    bert = await InferencePool.open({ modelDir: join(root, 'bert'), threads: 1 });
    xlmr = await InferencePool.open({ modelDir: join(root, 'xlmr'), threads: 1 });
  });
  afterAll(async () => {
    await bert?.close();
    await xlmr?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('should feed only the inputs each session declares', () => {
    expect([...bert.inputNames].sort()).toEqual(['attention_mask', 'input_ids', 'token_type_ids']);
    expect([...xlmr.inputNames].sort()).toEqual(['attention_mask', 'input_ids']);
  });

  it('should score pairs, batch-invariantly, without segment ids', async () => {
    const docs = ['a short one', 'a somewhat longer passage about ranking documents with a model', 'x'];
    const encoded = await xlmr.encode('what ranks passages', docs);
    const batched = await xlmr.score('what ranks passages', docs);
    for (let i = 0; i < docs.length; i++) {
      const alone = await xlmr.infer(gather([{ source: encoded, index: i }]));
      expect(Math.abs(relevanceScore(alone, 1, 0) - batched.scores[i]!)).toBeLessThanOrEqual(1e-4);
    }
    // Same weights, but the document half now embeds as segment 0: the scores must differ
    // from BERT's, which proves segment ids reach the BERT graph and not the other.
    const withSegments = await bert.score('what ranks passages', docs);
    expect(withSegments.scores.some((s, i) => Math.abs(s - batched.scores[i]!) > 1e-4)).toBe(true);
  });
});
