import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { batchFixture, requestLine, scoreOf } from './support/batch-fixture.js';
import type { BatchFixture } from './support/batch-fixture.js';

let fixture: BatchFixture;

afterEach(async () => {
  await fixture.close();
});

/** Files in the store directory; read again when the driver deletes a folder during the walk. */
async function filesUnder(dir: string): Promise<string[]> {
  for (;;) {
    try {
      return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

async function keysOf(fixture: BatchFixture, batchId: string): Promise<string[]> {
  return fixture.redis.keys(`${fixture.prefix}:batch:{${batchId}}*`);
}

describe('when an upload is stored', () => {
  it('should put nothing in the queues until it is sealed, and keep its lines in the store', async () => {
    fixture = await batchFixture();
    const service = fixture.service({ partLines: 100 });
    service.startDriving();
    const { batchId, upload } = await service.openUpload({ tenant: 'default' });
    for (let n = 0; n < 450; n++) await upload!.append({ number: n + 1, text: requestLine(n) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await fixture.queue.count()).toBe(0);
    expect((await filesUnder(fixture.storeDir)).length).toBe(4);
    expect(await upload!.seal()).toBe(450);
    fixture.worker();
    const state = await fixture.waitFinished(service, batchId);
    expect(state).toMatchObject({ total: 450, completed: 450 });
    // Once finished, the input parts and results parts go; only the results file stays.
    for (const deadline = Date.now() + 5000; (await filesUnder(fixture.storeDir)).length > 1 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await filesUnder(fixture.storeDir)).toEqual(['results.ndjson']);
  });
});

describe('when an upload with an idempotency key is cut off and sent again', () => {
  it('should continue after the last stored part and compute every line once', async () => {
    fixture = await batchFixture();
    const service = fixture.service({ partLines: 100 });
    const lines = Array.from({ length: 350 }, (_, n) => requestLine(n));
    const first = await service.openUpload({ tenant: 'default', idempotencyKey: 'nightly' });
    for (let n = 0; n < 250; n++) await first.upload!.append({ number: n + 1, text: lines[n]! });
    await first.upload!.abort();

    const second = await service.openUpload({ tenant: 'default', idempotencyKey: 'nightly' });
    expect(second.batchId).toBe(first.batchId);
    expect(second.upload!.resumeFrom).toBe(200);
    for (const [n, text] of lines.entries()) await second.upload!.append({ number: n + 1, text });
    await second.upload!.seal();
    // The same key again names the finished upload: no new upload.
    expect((await service.openUpload({ tenant: 'default', idempotencyKey: 'nightly' })).upload).toBeUndefined();

    service.startDriving();
    fixture.worker();
    const state = await fixture.waitFinished(service, first.batchId);
    expect(state).toMatchObject({ total: 350, completed: 350 });
    const results = await fixture.results(service, first.batchId);
    expect(results.map((line) => line.id)).toEqual(lines.map((_, n) => `line-${n}`));
    expect(results[300].results[0].relevance_score).toBe(scoreOf('q300', 1));
  });

  it('should refuse a second upload of the same key while the first one is sending', async () => {
    fixture = await batchFixture();
    const service = fixture.service();
    const first = await service.openUpload({ tenant: 'default', idempotencyKey: 'k' });
    await expect(service.openUpload({ tenant: 'default', idempotencyKey: 'k' })).rejects.toMatchObject({ code: 'batch_busy' });
    // Another tenant's key of the same name is another batch.
    const other = await service.openUpload({ tenant: 'other', idempotencyKey: 'k' });
    expect(other.batchId).not.toBe(first.batchId);
    await first.upload!.abort();
    await other.upload!.abort();
  });
});

describe('when an upload has more lines than the batch limit', () => {
  it('should refuse it before anything runs and, once discarded, leave nothing behind', async () => {
    fixture = await batchFixture();
    const service = fixture.service({ maxLines: 250, partLines: 100 });
    service.startDriving();
    const { batchId, upload } = await service.openUpload({ tenant: 'default' });
    let refused: unknown;
    try {
      for (let n = 0; n < 300; n++) await upload!.append({ number: n + 1, text: requestLine(n) });
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: 'payload_too_large', message: expect.stringContaining('250') });
    await upload!.abort();
    await service.discard(batchId);
    expect(await keysOf(fixture, batchId)).toEqual([]);
    expect(await filesUnder(fixture.storeDir)).toEqual([]);
    expect(await fixture.queue.count()).toBe(0);
  });
});

describe('when lines are blank, too long or not JSON', () => {
  it('should keep line numbers as ids, skip blank lines and give bad lines their own error', async () => {
    fixture = await batchFixture();
    const service = fixture.service();
    service.startDriving();
    fixture.worker();
    const { batchId, upload } = await service.openUpload({ tenant: 'default' });
    await upload!.append({ number: 1, text: JSON.stringify({ query: 'q0', documents: ['a'] }) });
    await upload!.append({ number: 3, text: 'not json' });
    await upload!.append({ number: 4, tooLongBytes: 123_456 });
    await upload!.append({ number: 7, text: JSON.stringify({ query: 'q6', documents: ['a'] }) });
    await upload!.seal();
    await fixture.waitFinished(service, batchId);
    const results = await fixture.results(service, batchId);
    expect(results.map((line) => [line.id, line.index, line.error?.code ?? 'ok'])).toEqual([
      [1, 0, 'ok'],
      [3, 1, 'invalid_request'],
      [4, 2, 'payload_too_large'],
      [7, 3, 'ok'],
    ]);
    expect(results[2].error.message).toContain('123456');
  });
});

describe('when a batch has no lines', () => {
  it('should finish at once with empty results', async () => {
    fixture = await batchFixture();
    const service = fixture.service();
    service.startDriving();
    const batchId = await fixture.upload(service, []);
    expect(await fixture.waitFinished(service, batchId)).toMatchObject({ status: 'completed', total: 0, completed: 0 });
    expect(await fixture.results(service, batchId)).toEqual([]);
  });
});

describe('when batches expire', () => {
  it('should delete the store files of a finished batch and of an upload never sealed', async () => {
    fixture = await batchFixture();
    const service = fixture.service({ retentionSeconds: 1, janitorIntervalMs: 200, partLines: 10 });
    service.startDriving();
    fixture.worker();
    const finished = await fixture.upload(service, Array.from({ length: 5 }, (_, n) => requestLine(n)));
    await fixture.waitFinished(service, finished);
    const abandoned = await service.openUpload({ tenant: 'default', idempotencyKey: 'never-sealed' });
    for (let n = 0; n < 25; n++) await abandoned.upload!.append({ number: n + 1, text: requestLine(n) });
    await abandoned.upload!.abort();
    expect((await filesUnder(fixture.storeDir)).length).toBe(3);

    for (const deadline = Date.now() + 10_000; (await filesUnder(fixture.storeDir)).length > 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await filesUnder(fixture.storeDir)).toEqual([]);
    expect(await keysOf(fixture, finished)).toEqual([]);
    await expect(service.status(finished, 'default')).rejects.toMatchObject({ code: 'batch_not_found' });
  });
});
