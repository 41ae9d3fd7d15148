import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openObjectStore } from '../src/index.js';
import { failureOf, listAll, s3Server, storeBackends, type OpenedStore } from './support/stores.js';

describe.each(storeBackends())('when an object does not exist ($name)', (backend) => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await backend.open();
  });
  afterEach(async () => {
    await opened.close();
  });

  it('should fail read with not_found naming the object URL', async () => {
    const error = await failureOf(opened.store.read('batch-7/input.jsonl'));

    expect(error.code).toBe('not_found');
    expect(error.message).toContain(`${opened.url}batch-7/input.jsonl`);
  });

  it('should fail read with an offset with not_found too', async () => {
    expect((await failureOf(opened.store.read('batch-7/input.jsonl', { start: 5 }))).code).toBe('not_found');
  });

  it('should fail read of a prefix that only holds other objects with not_found', async () => {
    await opened.store.put('batch-7/parts/0001', 'x');

    expect((await failureOf(opened.store.read('batch-7/parts'))).code).toBe('not_found');
  });
});

describe('when the bucket does not exist', () => {
  const server = s3Server();

  it('should report not_found naming the bucket, for reads, writes and listings', async () => {
    const store = openObjectStore('s3://no-such-bucket/batches/', { env: server().env });
    try {
      for (const error of [
        await failureOf(store.read('x')),
        await failureOf(store.put('x', 'y')),
        await failureOf(listAll(store, '')),
      ]) {
        expect(error.code).toBe('not_found');
        expect(error.message).toContain('"no-such-bucket"');
      }
    } finally {
      await store.close();
    }
  });
});
