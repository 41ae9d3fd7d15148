import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamicBatcher, type BatchStats } from '@rerank-pool/batcher';
import { InferencePool, pairLength, relevanceScore } from '@rerank-pool/model-runtime';
import { createRng, synthesizeModel, syntheticText } from '@rerank-pool/model-synth';

interface Job {
  query: string;
  documents: string[];
}

describe('when many jobs are submitted at once', () => {
  let root: string;
  let pool: InferencePool;
  const rng = createRng(2024);
  const jobs: Job[] = Array.from({ length: 24 }, (_, j) => ({
    query: `query ${j} ${syntheticText(rng, 3 + (j % 5))}`,
    documents: Array.from({ length: 3 + Math.floor(rng() * 12) }, () => syntheticText(rng, 2 + Math.floor(rng() * 90))),
  }));
  const expected: number[][] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-batcher-'));
    await synthesizeModel({ preset: 'tiny', outDir: join(root, 'tiny'), seed: 3 });
    pool = await InferencePool.open({ modelDir: join(root, 'tiny'), threads: 2 });
    for (const job of jobs) expected.push((await pool.score(job.query, job.documents)).scores);
  });

  afterAll(async () => {
    await pool?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('should merge pairs of several jobs into one batch and give each job exactly its own scores', async () => {
    const batcher = new DynamicBatcher((rows) => pool.infer(rows), { maxBatchTokens: 4096, maxBatchRows: 64, maxWaitMs: 20, maxInflight: 2 });
    const batches: BatchStats[] = [];
    batcher.on('batch', (stats) => batches.push(stats));
    // Encode everything first, then submit in a shuffled order with random gaps so the
    // submissions interleave differently from how they were scored alone.
    const encoded = await Promise.all(jobs.map((job) => pool.encode(job.query, job.documents)));
    const order = jobs.map((_, i) => i).sort(() => rng() - 0.5);
    const results = await Promise.all(
      order.map(async (j) => {
        if (rng() < 0.3) await new Promise((r) => setTimeout(r, Math.floor(rng() * 5)));
        return { j, logits: await batcher.submit(encoded[j]!) };
      }),
    );
    for (const { j, logits } of results) {
      expect(logits).toHaveLength(jobs[j]!.documents.length);
      jobs[j]!.documents.forEach((_, i) => expect(Math.abs(relevanceScore(logits, 1, i) - expected[j]![i]!)).toBeLessThanOrEqual(1e-4));
    }
    expect(Math.max(...batches.map((b) => b.submissions))).toBeGreaterThan(1);
    expect(batches.reduce((sum, b) => sum + b.rows, 0)).toBe(jobs.reduce((sum, job) => sum + job.documents.length, 0));
    // Padding: the same rows cut into as many batches in arrival order would pad far more.
    const real = batches.reduce((sum, b) => sum + b.realTokens, 0);
    const padded = batches.reduce((sum, b) => sum + b.paddedTokens, 0);
    const lengths = order.flatMap((j) => Array.from({ length: encoded[j]!.count }, (_, i) => pairLength(encoded[j]!, i)));
    const size = Math.ceil(lengths.length / batches.length);
    let naivePadded = 0;
    for (let i = 0; i < lengths.length; i += size) naivePadded += Math.max(...lengths.slice(i, i + size)) * lengths.slice(i, i + size).length;
    expect(real / padded).toBeGreaterThan(real / naivePadded + 0.1);
    await batcher.close();
  });

  it('should split a lone request across idle threads', async () => {
    const sizes: number[] = [];
    const batcher = new DynamicBatcher(
      (rows) => {
        sizes.push(rows.count);
        return pool.infer(rows);
      },
      { parallelism: 2, maxInflight: 4, maxWaitMs: 0, minPaddingEfficiency: 0 },
    );
    const logits = await batcher.submit(await pool.encode(jobs[1]!.query, jobs[1]!.documents));
    expect(sizes).toHaveLength(2);
    expect(sizes[0]! + sizes[1]!).toBe(jobs[1]!.documents.length);
    jobs[1]!.documents.forEach((_, i) => expect(Math.abs(relevanceScore(logits, 1, i) - expected[1]![i]!)).toBeLessThanOrEqual(1e-4));
    await batcher.close();
  });

  it('should drop the waiting rows of an aborted submission and keep serving the others', async () => {
    const batcher = new DynamicBatcher((rows) => pool.infer(rows), { maxWaitMs: 30 });
    const controller = new AbortController();
    const doomed = batcher.submit(await pool.encode('q', ['a', 'b']), { signal: controller.signal });
    const kept = batcher.submit(await pool.encode(jobs[0]!.query, jobs[0]!.documents));
    controller.abort();
    await expect(doomed).rejects.toMatchObject({ code: 'BATCHER_ABORTED' });
    const logits = await kept;
    jobs[0]!.documents.forEach((_, i) => expect(Math.abs(relevanceScore(logits, 1, i) - expected[0]![i]!)).toBeLessThanOrEqual(1e-4));
    await batcher.close();
    await expect(batcher.submit(await pool.encode('q', ['a']))).rejects.toMatchObject({ code: 'BATCHER_CLOSED' });
  });
});
