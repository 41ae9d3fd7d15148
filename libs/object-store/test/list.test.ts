import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAll, storeBackends, type OpenedStore } from './support/stores.js';

describe.each(storeBackends())('when listing keys ($name)', (backend) => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await backend.open();
    for (const key of ['b', 'a/2', 'a-b', 'a/10', 'a/1', 'a/b/c', 'ab']) await opened.store.put(key, key);
  });
  afterEach(async () => {
    await opened.close();
  });

  it('should yield every key in byte order', async () => {
    // '-' (0x2d) < '/' (0x2f) < 'b' (0x62): 'a-b' before everything under 'a/', 'ab' after it.
    expect(await listAll(opened.store, '')).toEqual(['a-b', 'a/1', 'a/10', 'a/2', 'a/b/c', 'ab', 'b']);
  });

  it('should yield only keys under a directory-like prefix', async () => {
    expect(await listAll(opened.store, 'a/')).toEqual(['a/1', 'a/10', 'a/2', 'a/b/c']);
  });

  it('should treat the prefix as a string prefix, not a directory', async () => {
    expect(await listAll(opened.store, 'a/1')).toEqual(['a/1', 'a/10']);
    expect(await listAll(opened.store, 'a')).toEqual(['a-b', 'a/1', 'a/10', 'a/2', 'a/b/c', 'ab']);
  });

  it('should yield nothing for a prefix without keys', async () => {
    expect(await listAll(opened.store, 'c/')).toEqual([]);
    expect(await listAll(opened.store, 'b/')).toEqual([]);
  });

  it('should order by UTF-8 bytes, as S3 does, not by UTF-16 code units', async () => {
    // U+FFFD is EF BF BD in UTF-8 and sorts before the F0-led emoji, although its UTF-16 unit is larger.
    for (const key of ['u/\u{1F600}', 'u/\uFFFD', 'u/é', 'u/z']) await opened.store.put(key, 'x');

    expect(await listAll(opened.store, 'u/')).toEqual(['u/z', 'u/é', 'u/\uFFFD', 'u/\u{1F600}']);
  });

  it('should not show an object while it is still being written', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const writing = new Promise<void>((resolve) => (started = resolve));
    async function* slowBody() {
      yield Buffer.alloc(1024, 7);
      started();
      await released;
      yield Buffer.alloc(1024, 8);
    }

    const upload = opened.store.putStream('c/in-progress', slowBody());
    await writing;
    const during = await listAll(opened.store, '');
    const insideTempDirectory = await listAll(opened.store, '.partial/');
    release();
    await upload;

    expect(during).toEqual(['a-b', 'a/1', 'a/10', 'a/2', 'a/b/c', 'ab', 'b']);
    expect(insideTempDirectory).toEqual([]);
    expect(await listAll(opened.store, 'c/')).toEqual(['c/in-progress']);
  });
});
