import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAll, storeBackends, type OpenedStore } from './support/stores.js';

describe.each(storeBackends())('when writing and reading whole objects ($name)', (backend) => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await backend.open();
  });
  afterEach(async () => {
    await opened.close();
  });

  it('should read back the exact bytes of a Buffer', async () => {
    const body = Buffer.from(Array.from({ length: 256 }, (_, index) => index));

    await opened.store.put('batch-1/input.bin', body);

    expect(await readAll(await opened.store.read('batch-1/input.bin'))).toEqual(body);
  });

  it('should store a string as UTF-8', async () => {
    await opened.store.put('lines.jsonl', '{"query":"café ☕"}\n');

    expect((await readAll(await opened.store.read('lines.jsonl'))).toString('utf8')).toBe('{"query":"café ☕"}\n');
  });

  it('should replace an existing object', async () => {
    await opened.store.put('a/b/c.json', 'first version, longer');
    await opened.store.put('a/b/c.json', 'second');

    expect((await readAll(await opened.store.read('a/b/c.json'))).toString()).toBe('second');
  });

  it('should keep an empty object', async () => {
    await opened.store.put('empty', '');

    expect(await readAll(await opened.store.read('empty'))).toHaveLength(0);
    expect(await opened.store.head('empty')).toEqual({ size: 0 });
  });

  it('should accept keys with spaces, percent signs and non-ASCII characters', async () => {
    const key = 'tenant a/100% done/résultats.jsonl';

    await opened.store.put(key, 'x');

    expect((await readAll(await opened.store.read(key))).toString()).toBe('x');
  });

  it('should end its url with a slash', () => {
    expect(opened.store.url).toMatch(backend.name === 'file' ? /^file:\/\/\/.+\/$/ : /^s3:\/\/test-bucket\/.+\/$/);
  });
});
