import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openObjectRef } from '../src/index.js';
import { readAll, storeBackends, type OpenedStore } from './support/stores.js';

describe.each(storeBackends())('when opening one object by its URL ($name)', (backend) => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await backend.open();
  });
  afterEach(async () => {
    await opened.close();
  });

  it('should root the store at the parent and name the object within it', async () => {
    const ref = openObjectRef(`${opened.url}batch-1/input.jsonl`, opened.options);
    try {
      expect(ref.key).toBe('input.jsonl');
      expect(ref.store.url).toBe(`${opened.url}batch-1/`);

      await ref.store.put(ref.key, '{"query":"q"}\n');

      expect((await readAll(await opened.store.read('batch-1/input.jsonl'))).toString()).toBe('{"query":"q"}\n');
    } finally {
      await ref.store.close();
    }
  });
});
