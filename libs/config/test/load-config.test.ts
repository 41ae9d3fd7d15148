import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/index.js';

describe('when no variable is set', () => {
  it('should use the documented defaults', () => {
    const config = loadConfig({});
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.rerankModels).toEqual(['cross-encoder/ms-marco-MiniLM-L-6-v2']);
    expect(config.workerConcurrency).toBe(32);
    expect(config.poolThreads).toBeGreaterThanOrEqual(1);
    expect(config.executionProvider).toBe('cpu');
    expect(config.maxBatchTokens).toBe(2048);
    expect(config.maxBatchWaitMs).toBe(5);
    expect(config.maxDocuments).toBe(1000);
    expect(config.queuePrefix).toBe('rerank-pool');
    expect(config.apiKeys).toBeUndefined();
    expect(config.webhookSecret).toBeUndefined();
  });
});

describe('when variables are set', () => {
  it('should parse them', () => {
    const config = loadConfig({
      REDIS_URL: 'rediss://user:s3cret@redis.example:6380/2',
      RERANK_MODELS: ' ./models/tiny , BAAI/bge-reranker-base',
      WORKER_CONCURRENCY: '4',
      EXECUTION_PROVIDER: 'CUDA',
      API_KEYS: 'acme:k1,globex:k:2',
      MAX_BATCH_WAIT_MS: '0',
      PORT: '',
    });
    expect(config.redisUrl).toBe('rediss://user:s3cret@redis.example:6380/2');
    expect(config.rerankModels).toEqual(['./models/tiny', 'BAAI/bge-reranker-base']);
    expect(config.workerConcurrency).toBe(4);
    expect(config.executionProvider).toBe('cuda');
    expect(config.apiKeys).toEqual([
      { tenant: 'acme', key: 'k1' },
      { tenant: 'globex', key: 'k:2' },
    ]);
    expect(config.maxBatchWaitMs).toBe(0);
    expect(config.port).toBe(8080);
  });
});
