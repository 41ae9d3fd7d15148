import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAll, openFileStore, storeBackends, type OpenedStore } from './support/stores.js';

describe.each(storeBackends())('when deleting ($name)', (backend) => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await backend.open();
    for (const key of ['batch-1/input.jsonl', 'batch-1/parts/0001', 'batch-1/parts/0002', 'batch-10/input.jsonl', 'other']) {
      await opened.store.put(key, key);
    }
  });
  afterEach(async () => {
    await opened.close();
  });

  it('should delete one object', async () => {
    await opened.store.delete('batch-1/parts/0001');

    expect(await opened.store.head('batch-1/parts/0001')).toBeUndefined();
    expect(await listAll(opened.store, 'batch-1/')).toEqual(['batch-1/input.jsonl', 'batch-1/parts/0002']);
  });

  it('should accept deleting a missing object', async () => {
    await opened.store.delete('batch-1/parts/0003');
    await opened.store.delete('nowhere/at/all');
    await opened.store.delete('batch-1/parts');

    expect(await listAll(opened.store, '')).toHaveLength(5);
  });

  it('should delete every object under a prefix and count them', async () => {
    expect(await opened.store.deletePrefix('batch-1/')).toBe(3);

    expect(await listAll(opened.store, '')).toEqual(['batch-10/input.jsonl', 'other']);
  });

  it('should count nothing for an empty prefix', async () => {
    expect(await opened.store.deletePrefix('batch-2/')).toBe(0);
  });

  it('should delete everything with the empty prefix', async () => {
    expect(await opened.store.deletePrefix('')).toBe(5);

    expect(await listAll(opened.store, '')).toEqual([]);
  });

  it('should accept writes again after a prefix was deleted', async () => {
    await opened.store.deletePrefix('batch-1/');
    await opened.store.put('batch-1/parts/0001', 'again');

    expect(await listAll(opened.store, 'batch-1/')).toEqual(['batch-1/parts/0001']);
  });
});

describe('when deleting a prefix in a directory', () => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await openFileStore();
  });
  afterEach(async () => {
    await opened.close();
  });

  it('should remove the directories it emptied and keep the root', async () => {
    await opened.store.put('tenant/batch-1/parts/0001', 'x');
    await opened.store.put('tenant/batch-1/input.jsonl', 'x');
    await opened.store.put('kept/x', 'x');

    await opened.store.deletePrefix('tenant/batch-1/');

    const root = opened.root as string;
    expect((await readdir(root)).filter((name) => name !== '.partial')).toEqual(['kept']);
    expect(await readdir(join(root, 'kept'))).toEqual(['x']);
  });
});
