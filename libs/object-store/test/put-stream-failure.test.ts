import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAll, openFileStore, patternChunks, readAll, storeBackends, type OpenedStore } from './support/stores.js';

class SourceFailure extends Error {}

/** Yields `bytes` in 256 KiB chunks, then throws. */
async function* failingAfter(bytes: number, error: Error): AsyncGenerator<Buffer> {
  yield* patternChunks(bytes / (256 * 1024), 256 * 1024);
  throw error;
}

describe.each(storeBackends())('when the stream being written throws ($name)', (backend) => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await backend.open();
  });
  afterEach(async () => {
    await opened.close();
  });

  it('should rethrow the same error and leave no object after a part was already uploaded', async () => {
    const error = new SourceFailure('input line 90000 is not JSON');

    // 12 MiB: past the first 8 MiB part, so S3 has a multipart upload to abort.
    await expect(opened.store.putStream('batch/results.jsonl', failingAfter(12 * 1024 * 1024, error))).rejects.toBe(error);

    expect(await opened.store.head('batch/results.jsonl')).toBeUndefined();
    expect(await listAll(opened.store, '')).toEqual([]);
  });

  it('should leave no object when the stream throws before its first byte', async () => {
    const error = new SourceFailure('cannot open upstream');

    await expect(opened.store.putStream('batch/results.jsonl', failingAfter(0, error))).rejects.toBe(error);

    expect(await opened.store.head('batch/results.jsonl')).toBeUndefined();
  });

  it('should keep the previous object untouched', async () => {
    await opened.store.put('batch/results.jsonl', 'complete results of the last run');

    await expect(
      opened.store.putStream('batch/results.jsonl', failingAfter(1024 * 1024, new SourceFailure('crash'))),
    ).rejects.toBeInstanceOf(SourceFailure);

    expect((await readAll(await opened.store.read('batch/results.jsonl'))).toString()).toBe('complete results of the last run');
  });

});

describe('when the stream being written to a directory throws', () => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await openFileStore();
  });
  afterEach(async () => {
    await opened.close();
  });

  it('should remove its temp file', async () => {
    await expect(opened.store.putStream('x', failingAfter(1024 * 1024, new SourceFailure('crash')))).rejects.toThrow('crash');

    expect(await readdir(join(opened.root as string, '.partial'))).toEqual([]);
  });
});
