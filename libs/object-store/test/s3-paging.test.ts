import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openObjectStore, type ObjectStore } from '../src/index.js';
import { listAll, s3Server } from './support/stores.js';

// Past one 1000-key page for ListObjectsV2 and one 1000-key batch for DeleteObjects.
const KEY_COUNT = 1100;

/** Runs `task` for 0..count-1 with at most `limit` in flight. */
async function forEachLimited(count: number, limit: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

describe('when an S3 prefix holds more keys than one listing page', () => {
  const server = s3Server();
  let store: ObjectStore;
  beforeAll(async () => {
    store = openObjectStore(`s3://${server().bucket}/paging/`, { env: server().env });
    // Written out of order, so a correct listing really has to sort.
    await forEachLimited(KEY_COUNT, 16, (index) => store.put(`part-${String((index * 7919) % KEY_COUNT).padStart(5, '0')}`, 'x'));
  });
  afterAll(async () => {
    await store.close();
  });

  it('should list every key once, in order, across pages', async () => {
    const keys = await listAll(store, 'part-');

    expect(keys).toHaveLength(KEY_COUNT);
    expect(keys).toEqual(Array.from({ length: KEY_COUNT }, (_, index) => `part-${String(index).padStart(5, '0')}`));
  });

  it('should delete them all in batches of at most 1000', async () => {
    expect(await store.deletePrefix('part-')).toBe(KEY_COUNT);

    expect(await listAll(store, '')).toEqual([]);
  });
});
