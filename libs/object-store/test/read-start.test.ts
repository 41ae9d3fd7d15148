import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAll, storeBackends, type OpenedStore } from './support/stores.js';

describe.each(storeBackends())('when reading from a byte offset ($name)', (backend) => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await backend.open();
    await opened.store.put('results.jsonl', '0123456789');
  });
  afterEach(async () => {
    await opened.close();
  });

  it('should stream from the offset to the end', async () => {
    expect((await readAll(await opened.store.read('results.jsonl', { start: 4 }))).toString()).toBe('456789');
  });

  it('should stream everything from offset 0', async () => {
    expect((await readAll(await opened.store.read('results.jsonl', { start: 0 }))).toString()).toBe('0123456789');
  });

  it('should yield nothing from the end of the object or beyond', async () => {
    expect(await readAll(await opened.store.read('results.jsonl', { start: 10 }))).toHaveLength(0);
    expect(await readAll(await opened.store.read('results.jsonl', { start: 11 }))).toHaveLength(0);
  });

  it('should reject an offset that is not a non-negative integer', async () => {
    await expect(opened.store.read('results.jsonl', { start: -1 })).rejects.toThrow(RangeError);
    await expect(opened.store.read('results.jsonl', { start: 1.5 })).rejects.toThrow(/start/);
  });

  it('should let the caller stop early', async () => {
    await opened.store.put('big', Buffer.alloc(4 * 1024 * 1024, 1));

    for await (const chunk of await opened.store.read('big', { start: 1 })) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    // The store stays usable: the abandoned stream released its file handle or socket.
    expect(await opened.store.head('big')).toEqual({ size: 4 * 1024 * 1024 });
  });
});
