import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferencePool, ModelRuntimeError } from '@rerank-pool/model-runtime';
import { withSyntheticModel } from './support/tiny-model.js';

/** Nice value of every thread of this process (Linux: field 19 of /proc/self/task/<tid>/stat). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return []; // the thread ended while we looked
    }
  });
}

/**
 * Issue 14 in the pool: interactive and batch work run on threads of their own, the batch lane's
 * started on demand at a lower priority, on a real pool of one thread per lane.
 */
describe('when batch work and interactive work share a model pool', () => {
  let model: Awaited<ReturnType<typeof withSyntheticModel>>;
  let pool: InferencePool;
  const documents = Array.from({ length: 200 }, (_, i) => `batch line passage ${i} ${'lorem ipsum dolor '.repeat(20)}`);
  const probeDocuments = ['a short passage', 'another one', 'and a third passage, a little longer'];

  beforeAll(async () => {
    model = await withSyntheticModel('tiny', 9);
    pool = await InferencePool.open({ modelDir: model.dir, threads: 1, batchThreads: 1 });
  });

  afterAll(async () => {
    await pool?.close();
    await model?.cleanup();
  });

  it('should start batch threads only when batch work comes, and at nice 10', async () => {
    expect(pool.options.batchNice).toBe(10);
    expect(threadNiceValues().filter((nice) => nice === 10)).toHaveLength(0);
    await pool.encode('first batch work', documents.slice(0, 10), {}, 'batch');
    expect(threadNiceValues().filter((nice) => nice === 10).length).toBeGreaterThanOrEqual(1);
    // The interactive thread kept the process's own priority.
    expect(threadNiceValues().filter((nice) => nice === 0).length).toBeGreaterThanOrEqual(2);
  });

  it('should run interactive work while batch tasks queue on their own lane, and score the same on both', async () => {
    const finished: string[] = [];
    const batchWork = Array.from({ length: 12 }, (_, i) => pool.encode(`line ${i}`, documents, {}, 'batch').then(() => finished.push(`batch ${i}`)));
    expect(pool.activeTasks('batch')).toBe(12);
    const probe = await pool.encode('probe', probeDocuments, {}, 'interactive');
    finished.push('interactive encode');
    const logits = await pool.infer(probe, 'interactive');
    finished.push('interactive infer');
    const stillQueued = pool.activeTasks('batch');
    await Promise.all(batchWork);

    // Neither waited for the batch tasks queued ahead of them: most were still waiting.
    expect(finished.indexOf('interactive infer')).toBeLessThanOrEqual(3);
    expect(stillQueued).toBeGreaterThanOrEqual(9);
    expect(pool.activeTasks('batch')).toBe(0);
    // The same rows on the batch lane's session give the same logits.
    const again = await pool.infer(await pool.encode('probe', probeDocuments, {}, 'batch'), 'batch');
    Array.from(again).forEach((logit, i) => expect(Math.abs(logit - logits[i]!)).toBeLessThanOrEqual(1e-6));
  });

  it('should refuse a batch nice value outside 0-19, naming it', async () => {
    const error = await InferencePool.open({ modelDir: model.dir, threads: 1, batchNice: 20 }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ModelRuntimeError);
    expect((error as ModelRuntimeError).code).toBe('INVALID_OPTION');
    expect((error as Error).message).toMatch(/batchNice must be an integer from 0 to 19, got 20/);
  });
});
