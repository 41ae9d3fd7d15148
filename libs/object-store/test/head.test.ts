import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeBackends, type OpenedStore } from './support/stores.js';

describe.each(storeBackends())('when asking for an object size ($name)', (backend) => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await backend.open();
  });
  afterEach(async () => {
    await opened.close();
  });

  it('should report the size in bytes', async () => {
    await opened.store.put('batch/input.jsonl', 'héllo');

    expect(await opened.store.head('batch/input.jsonl')).toEqual({ size: 6 });
  });

  it('should report undefined for a missing object', async () => {
    expect(await opened.store.head('batch/missing.jsonl')).toBeUndefined();
  });

  it('should report undefined for a prefix that only holds other objects', async () => {
    await opened.store.put('batch/parts/0001', 'x');

    expect(await opened.store.head('batch/parts')).toBeUndefined();
    expect(await opened.store.head('batch/parts/0001/deeper')).toBeUndefined();
  });
});
