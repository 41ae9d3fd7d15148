import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamicBatcher, type BatchPlan } from '@rerank-pool/batcher';
import { InferencePool } from '@rerank-pool/model-runtime';
import { createRng, synthesizeModel, syntheticText } from '@rerank-pool/model-synth';

function spanContext(): SpanContext {
  return { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.SAMPLED };
}

describe('when submissions carry trace links', () => {
  let root: string;
  let pool: InferencePool;
  const rng = createRng(77);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-batcher-links-'));
    await synthesizeModel({ preset: 'tiny', outDir: join(root, 'tiny'), seed: 5 });
    pool = await InferencePool.open({ modelDir: join(root, 'tiny'), threads: 1 });
  });

  afterAll(async () => {
    await pool?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('should tell each batch runner the link of every submission it serves, once each', async () => {
    const plans: BatchPlan[] = [];
    const batcher = new DynamicBatcher(
      (rows, plan) => {
        plans.push(plan);
        return pool.infer(rows);
      },
      { maxBatchTokens: 2048, maxWaitMs: 20, maxInflight: 1 },
    );
    const jobs = Array.from({ length: 6 }, (_, j) => ({
      link: j === 5 ? undefined : spanContext(),
      documents: Array.from({ length: 4 + j }, () => syntheticText(rng, 5 + Math.floor(rng() * 40))),
    }));
    const encoded = await Promise.all(jobs.map((job) => pool.encode('a query', job.documents)));
    await Promise.all(encoded.map((packed, j) => batcher.submit(packed, { traceLink: jobs[j]!.link })));
    await batcher.close();

    expect(plans.reduce((sum, plan) => sum + plan.rows, 0)).toBe(jobs.reduce((sum, job) => sum + job.documents.length, 0));
    expect(Math.max(...plans.map((plan) => plan.submissions))).toBeGreaterThan(1);
    for (const plan of plans) {
      // One link per linked submission in the batch; only the one unlinked job may add none.
      expect(new Set(plan.traceLinks.map((link) => link.spanId)).size).toBe(plan.traceLinks.length);
      expect(plan.traceLinks.length).toBeLessThanOrEqual(plan.submissions);
      expect(plan.traceLinks.length).toBeGreaterThanOrEqual(plan.submissions - 1);
    }
    const linked = new Set(plans.flatMap((plan) => plan.traceLinks.map((link) => link.spanId)));
    expect(linked).toEqual(new Set(jobs.flatMap((job) => (job.link ? [job.link.spanId] : []))));
  });
});
