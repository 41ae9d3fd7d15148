import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamicBatcher, type BatchStats } from '@rerank-pool/batcher';
import { documentScores, InferencePool } from '@rerank-pool/model-runtime';
import { createRng, synthesizeModel, syntheticText } from '@rerank-pool/model-synth';

/** The chunks of a long document are ordinary rows: no separate path, batched with everyone's. */
describe('when a job scores long documents by chunks', () => {
  let root: string;
  let pool: InferencePool;
  const rng = createRng(77);
  const chunkedJob = { query: 'long documents', documents: [syntheticText(rng, 500), 'a short one', syntheticText(rng, 300)] };
  // Rows of about the window's length, like the chunks, so length-sorted batching puts them together.
  const plainJob = { query: 'another query', documents: Array.from({ length: 6 }, () => syntheticText(rng, 150)) };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-chunks-'));
    await synthesizeModel({ preset: 'tiny', outDir: join(root, 'tiny'), seed: 3 });
    pool = await InferencePool.open({ modelDir: join(root, 'tiny'), threads: 2, maxLength: 128 });
  });

  afterAll(async () => {
    await pool?.close();
    await rm(root, { recursive: true, force: true });
  });

  it("should put its chunk rows in the same batches as another job's rows and fold them back to its documents", async () => {
    const batcher = new DynamicBatcher((rows) => pool.infer(rows), { maxBatchTokens: 16_384, maxBatchRows: 256, maxWaitMs: 50, maxInflight: 1 });
    const batches: BatchStats[] = [];
    batcher.on('batch', (stats) => batches.push(stats));
    const chunked = await pool.encode(chunkedJob.query, chunkedJob.documents, { maxChunksPerDoc: 8 });
    const plain = await pool.encode(plainJob.query, plainJob.documents);
    expect(chunked.count).toBeGreaterThan(chunkedJob.documents.length);
    const [chunkLogits, plainLogits] = await Promise.all([batcher.submit(chunked), batcher.submit(plain)]);
    await batcher.close();
    expect(batches.reduce((sum, b) => sum + b.rows, 0)).toBe(chunked.count + plain.count);
    expect(batches.some((b) => b.submissions === 2)).toBe(true);
    const alone = await pool.score(chunkedJob.query, chunkedJob.documents, { maxChunksPerDoc: 8 });
    const folded = documentScores(chunked, chunkLogits, 1);
    expect(folded.chunks).toEqual(alone.chunks);
    folded.scores.forEach((score, i) => expect(Math.abs(score - alone.scores[i]!)).toBeLessThanOrEqual(1e-4));
    const plainAlone = await pool.score(plainJob.query, plainJob.documents);
    plainJob.documents.forEach((_, i) => expect(Math.abs(plainLogits[i]! - plainAlone.logits[i]!)).toBeLessThanOrEqual(1e-4));
  });
});
