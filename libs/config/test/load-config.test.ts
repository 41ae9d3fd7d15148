import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

const whsec = (bytes: number) => `whsec_${Buffer.alloc(bytes, 0xa7).toString('base64')}`;

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
      WEBHOOK_SECRET: ` ${whsec(32)} `,
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
    expect(config.webhookSecret).toBe(whsec(32));
  });
});

describe('when WEBHOOK_SECRET is given', () => {
  it('should accept whsec_ and the base64 of 24 to 64 bytes', () => {
    for (const bytes of [24, 64]) expect(loadConfig({ WEBHOOK_SECRET: whsec(bytes) }).webhookSecret).toBe(whsec(bytes));
  });

  it.each([
    { name: 'a bare string', secret: 'test-webhook-secret', problem: 'the value does not start with whsec_' },
    { name: 'a raw base64 key without the prefix', secret: whsec(32).slice('whsec_'.length), problem: 'the value does not start with whsec_' },
    { name: 'base64url', secret: `whsec_${Buffer.alloc(32, 0xfb).toString('base64url')}`, problem: 'what follows whsec_ is not standard padded base64' },
    { name: 'base64 without its padding', secret: whsec(32).replace(/=+$/, ''), problem: 'what follows whsec_ is not standard padded base64' },
    { name: 'a key of 16 bytes', secret: whsec(16), problem: 'it decodes to 16 bytes' },
    { name: 'a key of 65 bytes', secret: whsec(65), problem: 'it decodes to 65 bytes' },
  ])('should refuse $name, saying what is wrong without showing it', ({ secret, problem }) => {
    let error: unknown;
    try {
      loadConfig({ WEBHOOK_SECRET: secret });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const [message] = (error as ConfigError).problems;
    expect(message).toMatch(/^WEBHOOK_SECRET must be whsec_<base64 of 24 to 64 random bytes>/);
    expect(message).toContain(problem);
    expect(message).not.toContain(secret.replace(/^whsec_/, ''));
  });
});

describe('when WEBHOOK_ALLOWED_HOSTS is given', () => {
  it('should keep the listed host names, IP addresses and CIDR ranges, trimmed', () => {
    const config = loadConfig({ WEBHOOK_ALLOWED_HOSTS: ' hooks.internal , 127.0.0.1,[::1], 10.1.0.0/16,fd00::/8 ' });
    expect(config.webhookAllowedHosts).toEqual(['hooks.internal', '127.0.0.1', '[::1]', '10.1.0.0/16', 'fd00::/8']);
    expect(loadConfig({}).webhookAllowedHosts).toBeUndefined();
  });

  it.each([
    { value: '127.0.0.1,10.0.0.0/33', problem: '"10.0.0.0/33" (entry 2) is not a CIDR range such as 10.0.0.0/8 or fd00::/8' },
    { value: '2130706433', problem: '"2130706433" (entry 1) is a short or numeric form of 127.0.0.1; write 127.0.0.1' },
    { value: 'http://hooks.internal', problem: '"http://hooks.internal" (entry 1) is not a bare host name (no scheme, port, path or user)' },
    { value: '*.internal', problem: '"*.internal" (entry 1) has a wildcard' },
    { value: 'a,,b', problem: 'must be a comma-separated list without empty entries' },
  ])('should refuse $value, naming the variable and the entry', ({ value, problem }) => {
    let error: unknown;
    try {
      loadConfig({ WEBHOOK_ALLOWED_HOSTS: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const [message] = (error as ConfigError).problems;
    expect(message).toMatch(/^WEBHOOK_ALLOWED_HOSTS must be a comma/);
    expect(message).toContain(problem);
  });
});
