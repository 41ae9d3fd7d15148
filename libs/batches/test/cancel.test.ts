import { afterEach, describe, expect, it } from 'vitest';
import { batchFixture, requestLine } from './support/batch-fixture.js';
import type { BatchFixture } from './support/batch-fixture.js';

let fixture: BatchFixture;

afterEach(async () => {
  await fixture.close();
});

describe('when a running batch is cancelled', () => {
  it('should cancel the waiting and never-fed lines, let running ones finish, and account for every line once', async () => {
    fixture = await batchFixture();
    const service = fixture.service({ windowLines: 100, feedChunkLines: 25 });
    service.startDriving();
    fixture.worker({ concurrency: 4, delayMs: 20 });
    const total = 2000;
    const batchId = await fixture.upload(service, Array.from({ length: total }, (_, n) => requestLine(n)));
    while ((await service.status(batchId, 'default')).completed < 20) await new Promise((resolve) => setTimeout(resolve, 10));

    const cancelled = await service.cancel(batchId, 'default');
    expect(cancelled.status).toBe('cancelled');
    // Most of the batch was never fed: its lines are cancelled in the same answer.
    expect(cancelled.cancelled).toBeGreaterThan(total - 200);

    const state = await fixture.waitFinished(service, batchId);
    expect(state.completed + state.failed + state.cancelled).toBe(total);
    expect(state.status).toBe('cancelled');
    const results = await fixture.results(service, batchId);
    expect(results.map((line) => line.index)).toEqual(Array.from({ length: total }, (_, n) => n));
    expect(results.map((line) => line.id)).toEqual(Array.from({ length: total }, (_, n) => `line-${n}`));
    expect(results.filter((line) => line.results).length).toBe(state.completed);
    expect(results.filter((line) => line.error?.code === 'cancelled').length).toBe(state.cancelled);
    // Nothing of the batch is left in the queue.
    expect(await fixture.queue.getJobCountByTypes('waiting', 'prioritized', 'delayed', 'active')).toBe(0);
  });
});

describe('when a batch is cancelled during its upload', () => {
  it('should refuse with batch_busy while the upload holds it, then cancel what was stored', async () => {
    fixture = await batchFixture();
    const service = fixture.service({ partLines: 10 });
    service.startDriving();
    const { batchId, upload } = await service.openUpload({ tenant: 'default', idempotencyKey: 'k' });
    for (let n = 0; n < 25; n++) await upload!.append({ number: n + 1, text: requestLine(n) });
    await expect(service.cancel(batchId, 'default')).rejects.toMatchObject({ code: 'batch_busy' });
    await upload!.abort();

    const cancelled = await service.cancel(batchId, 'default');
    // The two parts stored (20 lines) are the batch; the 5 lines not yet stored were never part of it.
    expect(cancelled).toMatchObject({ status: 'cancelled', total: 20, cancelled: 20 });
    await fixture.waitFinished(service, batchId);
    const results = await fixture.results(service, batchId);
    expect(results.map((line) => [line.id, line.error.code])).toEqual(Array.from({ length: 20 }, (_, n) => [`line-${n}`, 'cancelled']));
  });
});
