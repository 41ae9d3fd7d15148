import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

describe('when variables are invalid', () => {
  it('should name every bad variable with the value it got', () => {
    const load = () =>
      loadConfig({
        WORKER_CONCURRENCY: 'abc',
        PORT: '70000',
        EXECUTION_PROVIDER: 'tpu',
        REDIS_URL: 'http://localhost',
        RERANK_MODELS: 'a,,b',
        API_KEYS: 'nokey',
        MAX_DOCUMENTS: '0',
      });
    expect(load).toThrow(ConfigError);
    try {
      load();
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'REDIS_URL must use redis:// or rediss://, got http://',
        'PORT must be a non-negative integer <= 65535, got "70000"',
        'RERANK_MODELS must be a comma-separated list without empty entries, got "a,,b"',
        'WORKER_CONCURRENCY must be a positive integer, got "abc"',
        'EXECUTION_PROVIDER must be one of cpu|cuda, got "tpu"',
        'MAX_DOCUMENTS must be a positive integer, got "0"',
        'API_KEYS must be a list of tenant:key pairs; entry 1 is not',
      ]);
    }
  });

  it('should refuse one key given to two tenants', () => {
    expect(() => loadConfig({ API_KEYS: 'a:same,b:same' })).toThrow(
      'API_KEYS must not give the same key to two tenants',
    );
  });
});

describe('when the batch store URL is not one', () => {
  it('should say what is wrong with it, with any credentials hidden', () => {
    expect(() => loadConfig({ BATCH_STORE_URL: 's3://' })).toThrow('BATCH_STORE_URL must be a file:///absolute/dir or s3://bucket/prefix URL (Invalid object store URL "s3://": the bucket name is missing');
    expect(() => loadConfig({ BATCH_STORE_URL: 'file://relative/dir' })).toThrow('a file URL takes no host or credentials');
    expect(() => loadConfig({ BATCH_URL_PREFIXES: 'file:///data/,s3://KEY:SECRET@bucket/x' })).toThrow('"s3://***@bucket/x": credentials do not belong in the URL');
    expect(loadConfig({ BATCH_STORE_URL: 's3://rerank-pool-batches/batches' }).batchStoreUrl).toBe('s3://rerank-pool-batches/batches');
  });
});
