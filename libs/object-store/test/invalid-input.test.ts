import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openObjectRef, openObjectStore } from '../src/index.js';
import { failureOf, listAll, openFileStore, storeBackends, type OpenedStore } from './support/stores.js';

describe('when a store URL is not valid', () => {
  it.each([
    ['file:data/batches', 'absolute'],
    ['file:./data', 'absolute'],
    ['file://data/batches', 'no host'],
    ['/var/data/batches', 'no scheme'],
    ['http://minio:9000/bucket', '"http:" is not supported'],
    ['s3://', 'bucket name is missing'],
    ['s3:///prefix', 'bucket name is missing'],
    ['s3:bucket', 's3://bucket/prefix'],
    ['s3://Bucket_Name/x', 'not a valid bucket name'],
    ['s3://localhost:9000/bucket', 'AWS_ENDPOINT_URL_S3'],
    ['s3://bucket/prefix?versionId=3', 'query strings'],
    ['file:///var/data?x=1', 'query strings'],
    ['file:///var/a%2Fb', 'encoded'],
    ['s3://bucket/a//b', 'empty segment'],
    ['s3://bucket/a/../b', '".." segment'],
  ])('should reject %s with invalid_url', async (url, problem) => {
    const error = await failureOf(() => openObjectStore(url));

    expect(error.code).toBe('invalid_url');
    expect(error.message).toContain(problem);
  });

  it('should reject credentials in the URL without repeating them', async () => {
    for (const url of ['s3://AKIAEXAMPLE:wJalr/K7MDENG+bPxRfiCY@bucket/x', 's3://AKIAEXAMPLE:wJalrK7MDENGbPxRfiCY@bucket/x']) {
      const error = await failureOf(() => openObjectStore(url));

      expect(error.code).toBe('invalid_url');
      expect(error.message).toContain('credentials');
      expect(error.message).not.toContain('wJalr');
      expect(error.message).not.toContain('AKIAEXAMPLE');
    }
  });

  it('should normalise valid URLs to a root ending in "/"', async () => {
    const stores = [
      openObjectStore('file:///var/data/./x/../batches'),
      openObjectStore('file://localhost/var/data/batches/'),
      openObjectStore('s3://bucket'),
      openObjectStore('s3://bucket/team-a'),
      openObjectStore('s3://bucket/team-a/'),
    ];

    expect(stores.map((store) => store.url)).toEqual([
      'file:///var/data/batches/',
      'file:///var/data/batches/',
      's3://bucket/',
      's3://bucket/team-a/',
      's3://bucket/team-a/',
    ]);
    await Promise.all(stores.map((store) => store.close()));
  });

  it('should reject an object URL that names no object', async () => {
    for (const url of ['file:///var/data/', 's3://bucket', 's3://bucket/', 's3://bucket/dir/']) {
      expect((await failureOf(() => openObjectRef(url))).code).toBe('invalid_url');
    }
  });
});

describe.each(storeBackends())('when a key is not valid ($name)', (backend) => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await backend.open();
  });
  afterEach(async () => {
    await opened.close();
  });

  it.each(['', '/abs', 'dir/', 'a//b', './a', 'a/./b', 'a/../b', '..', 'a\0b', 'k'.repeat(1025)])(
    'should reject %j with invalid_key',
    async (key) => {
      for (const operation of [
        () => opened.store.put(key, 'x'),
        () => opened.store.read(key),
        () => opened.store.head(key),
        () => opened.store.delete(key),
      ]) {
        const error = await failureOf(operation);
        expect(error.code).toBe('invalid_key');
        expect(error.message).toContain(opened.url);
      }
    },
  );

  it('should reject prefixes that could not start a valid key', async () => {
    for (const prefix of ['/a', 'a//', 'a/../', './']) {
      expect((await failureOf(listAll(opened.store, prefix))).code).toBe('invalid_key');
      expect((await failureOf(opened.store.deletePrefix(prefix))).code).toBe('invalid_key');
    }
  });
});

describe('when a key does not fit in a directory tree', () => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await openFileStore();
  });
  afterEach(async () => {
    await opened.close();
  });

  it('should reject keys under the temp directory of unfinished writes', async () => {
    const error = await failureOf(opened.store.put('.partial/x', 'y'));

    expect(error.code).toBe('invalid_key');
    expect(error.message).toContain('reserved');
  });

  it('should reject a key that needs a directory where an object is, and the reverse', async () => {
    await opened.store.put('a', 'object');
    await opened.store.put('b/c', 'object');

    expect((await failureOf(opened.store.put('a/b', 'x'))).code).toBe('invalid_key');
    expect((await failureOf(opened.store.put('b', 'x'))).code).toBe('invalid_key');
    expect(await listAll(opened.store, '')).toEqual(['a', 'b/c']);
  });
});
