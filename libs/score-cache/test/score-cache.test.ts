import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startPrivateRedis, type PrivateRedis } from '../../batches/test/support/private-redis.js';
import { checkCacheEviction, mergeCachedResult, modelIdentity, openScoreCache, pairKeys, ScoreCache, ScoreCacheError, splitByCache, type CachedPair } from '../src/index.js';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { decodeCachedPair, encodeCachedPair } from '../src/cached-pair.js';

const options = { truncate: true };

describe('when a pair is written and read back', () => {
  it('should give the very same doubles, bit for bit', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.nat(), fc.boolean(), (score, logit, tokens, truncated) => {
        const pair: CachedPair = { score, logit, tokens, truncated };
        const read = decodeCachedPair(encodeCachedPair(pair))!;
        expect(Object.is(read.score, score)).toBe(true);
        expect(Object.is(read.logit, logit)).toBe(true);
        expect(read).toEqual(pair);
      }),
      { numRuns: 2000 },
    );
  });

  it('should keep the sign of a zero', () => {
    const read = decodeCachedPair(encodeCachedPair({ score: 0.5, logit: -0, tokens: 3, truncated: false }))!;
    expect(Object.is(read.logit, -0)).toBe(true);
  });

  it('should keep the winning chunk', () => {
    const pair: CachedPair = { score: 0.25, logit: -1.0986122886681098, tokens: 700, truncated: true, chunk: { index: 2, count: 3, startToken: 380 } };
    expect(decodeCachedPair(encodeCachedPair(pair))).toEqual(pair);
  });

  it('should read a value it does not understand as a miss', () => {
    for (const value of ['', '1|2|3', '0.5|x|3|0', '0.5|0|3|2', '0.5|0|-1|0', '0.5|0|3|0|1,2', '0.5|0|3|0|a,b,c']) expect(decodeCachedPair(value)).toBeUndefined();
  });
});

describe('when keys are derived', () => {
  const key = (identity: string, opts: object, query: string, document: string) => pairKeys('p', identity, opts, query, [document])[0];

  it('should change with the model, every score-changing option, the query and the document', () => {
    const base = key('model-a', options, 'q', 'd');
    expect(key('model-b', options, 'q', 'd')).not.toBe(base);
    expect(key('model-a', { truncate: false }, 'q', 'd')).not.toBe(base);
    expect(key('model-a', { ...options, maxTokensPerDoc: 64 }, 'q', 'd')).not.toBe(base);
    expect(key('model-a', { ...options, truncationDirection: 'left' }, 'q', 'd')).not.toBe(base);
    expect(key('model-a', { ...options, maxChunksPerDoc: 3 }, 'q', 'd')).not.toBe(base);
    expect(key('model-a', options, 'q2', 'd')).not.toBe(base);
    expect(key('model-a', options, 'q', 'd2')).not.toBe(base);
    // Defaults spelled out are the same request.
    expect(key('model-a', { ...options, truncationDirection: 'right', maxChunksPerDoc: 1 }, 'q', 'd')).toBe(base);
  });

  it('should give the keys of one request one hash tag (one cluster slot), and another query another', () => {
    const tagOf = (k: string) => /\{([^}]+)\}/.exec(k)?.[1];
    const keys = pairKeys('p', 'm', options, 'q', ['a', 'b', 'c']);
    expect(new Set(keys).size).toBe(3);
    expect(new Set(keys.map(tagOf)).size).toBe(1);
    expect(tagOf(keys[0]!)).toBeDefined();
    expect(tagOf(pairKeys('p', 'm', options, 'q2', ['a'])[0]!)).not.toBe(tagOf(keys[0]!));
  });

  it('should not confuse where the query ends and the document starts', () => {
    expect(key('m', options, 'ab', 'c')).not.toBe(key('m', options, 'a', 'bc'));
    expect(key('m', options, 'a"', 'b')).not.toBe(key('m', options, 'a', '"b'));
  });
});

describe('when a model is identified', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rp-identity-'));
    await writeFile(join(dir, 'model.onnx'), 'graph bytes');
    await writeFile(join(dir, 'tokenizer.json'), '{"model":{}}');
    await writeFile(join(dir, 'config.json'), '{}');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('should change with the ONNX bytes, the tokenizer, the max length and the labels', async () => {
    const model = { onnxPath: join(dir, 'model.onnx'), dir, maxLength: 512, numLabels: 1 };
    const base = await modelIdentity(model);
    expect(await modelIdentity(model)).toBe(base);
    expect(await modelIdentity({ ...model, maxLength: 256 })).not.toBe(base);
    expect(await modelIdentity({ ...model, numLabels: 2 })).not.toBe(base);
    await writeFile(join(dir, 'model.onnx'), 'other graph bytes');
    const otherGraph = await modelIdentity(model);
    expect(otherGraph).not.toBe(base);
    await writeFile(join(dir, 'tokenizer.json'), '{"model":{"unk":1}}');
    expect(await modelIdentity(model)).not.toBe(otherGraph);
  });

  it('should name an unreadable file in its error', async () => {
    const error = await modelIdentity({ onnxPath: join(dir, 'missing.onnx'), dir, maxLength: 8, numLabels: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScoreCacheError);
    expect(error).toMatchObject({ code: 'MODEL_IDENTITY_UNREADABLE', message: expect.stringContaining('missing.onnx') });
  });
});

describe('when a request is split by a lookup', () => {
  const hit: CachedPair = { score: 0.5, logit: 0, tokens: 4, truncated: false };

  it('should leave only the misses to compute, in request order, and merge into the lookup', () => {
    const cached = [hit, undefined, hit, undefined];
    expect(splitByCache(['a', 'b', 'c', 'd'], options, cached)).toEqual({ hits: 2, toCompute: ['b', 'd'], merge: cached });
    expect(splitByCache(['a'], options, [hit])).toEqual({ hits: 1, toCompute: [], merge: [hit] });
  });

  it('should compute a truncate: false request whole unless every pair is cached', () => {
    expect(splitByCache(['a', 'b'], { truncate: false }, [hit, undefined])).toEqual({ hits: 1, toCompute: ['a', 'b'] });
    expect(splitByCache(['a'], { truncate: false }, [hit])).toEqual({ hits: 1, toCompute: [], merge: [hit] });
  });
});

describe('when cached and computed scores are merged', () => {
  it('should put each back at its document and add up tokens', () => {
    const hit = (score: number): CachedPair => ({ score, logit: score * 10, tokens: 7, truncated: false });
    const merged = mergeCachedResult({
      model: 'm',
      cached: [hit(0.1), undefined, hit(0.3), undefined],
      computed: { v: 1, model: 'm', scores: [0.2, 0.4], logits: [2, 4], inputTokens: 30, timings: { queueMs: 1, inferenceMs: 2 }, truncated: [true, false] },
      chunked: false,
    });
    expect(merged).toEqual({
      v: 1,
      model: 'm',
      scores: [0.1, 0.2, 0.3, 0.4],
      logits: [1, 2, 3, 4],
      inputTokens: 44,
      timings: { queueMs: 1, inferenceMs: 2 },
      truncated: [false, true, false, false],
      cachedPairs: 2,
    });
  });

  it('should refuse a computed result of the wrong length', () => {
    expect(() =>
      mergeCachedResult({ model: 'm', cached: [undefined], computed: { v: 1, model: 'm', scores: [1, 2], logits: [1, 2], inputTokens: 2, timings: { queueMs: 0, inferenceMs: 0 } }, chunked: false }),
    ).toThrow(RangeError);
  });
});

describe('when the cache Redis is checked against the queue Redis', () => {
  const started: PrivateRedis[] = [];
  const clients: Redis[] = [];
  const client = (url: string) => {
    const redis = new Redis(url);
    clients.push(redis);
    return redis;
  };
  afterAll(async () => {
    for (const redis of clients) redis.disconnect();
    for (const server of started) await server.stop();
  });

  it('should refuse the queue Redis itself with an eviction policy, whatever database the URL names', async () => {
    const lru = await startPrivateRedis({ args: ['--maxmemory-policy', 'volatile-lru'] });
    started.push(lru);
    const error = await checkCacheEviction(client(`${lru.url}/3`), client(lru.url)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScoreCacheError);
    expect(error).toMatchObject({ code: 'CACHE_MAY_EVICT_QUEUE_DATA', message: expect.stringContaining('volatile-lru') });
  });

  it('should accept a shared noeviction Redis with a warning, and a separate LRU one silently', async () => {
    const shared = await startPrivateRedis();
    const cache = await startPrivateRedis({ args: ['--maxmemory', '16mb', '--maxmemory-policy', 'allkeys-lru'] });
    started.push(shared, cache);
    expect(await checkCacheEviction(client(`${shared.url}/2`), client(shared.url))).toMatch(/shares the queue's Redis/);
    expect(await checkCacheEviction(client(cache.url), client(shared.url))).toBeUndefined();
  });

  it('should open a cache that does not answer, warn, and miss every lookup without failing', async () => {
    const queue = await startPrivateRedis();
    started.push(queue);
    const warnings: string[] = [];
    const errors: Error[] = [];
    const cache = await openScoreCache({
      connection: redisOptionsFromUrl(`redis://127.0.0.1:${await freePort()}`),
      prefix: 'rp-test',
      ttlSeconds: 60,
      queue: client(queue.url),
      warn: (message) => warnings.push(message),
      onError: (error) => errors.push(error),
    });
    try {
      expect(warnings.join('\n')).toMatch(/could not be checked/);
      const begun = performance.now();
      expect(await cache.lookup('id', options, 'q', ['a', 'b'])).toEqual([undefined, undefined]);
      await cache.store('id', options, 'q', ['a'], [{ score: 1, logit: 1, tokens: 1, truncated: false }]);
      expect(await cache.identityOf('m')).toBeUndefined();
      expect(errors.length).toBeGreaterThanOrEqual(3);
      // Bounded by the command timeout and a reconnect attempt, not by Redis coming back.
      expect(performance.now() - begun).toBeLessThan(5000);
    } finally {
      await cache.close();
    }
  });

  it('should store and find pairs, and announce a model identity', async () => {
    const server = await startPrivateRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    started.push(server);
    const cache = new ScoreCache({ connection: redisOptionsFromUrl(server.url), prefix: 'rp-test', ttlSeconds: 60, identityRefreshMs: 0 });
    try {
      const pairs: CachedPair[] = [
        { score: 0.7310585786300049, logit: 1, tokens: 12, truncated: false },
        { score: 0.5, logit: 0, tokens: 9, truncated: true },
      ];
      await cache.store('id-1', options, 'q', ['a', 'b'], pairs);
      expect(await cache.lookup('id-1', options, 'q', ['b', 'c', 'a'])).toEqual([pairs[1], undefined, pairs[0]]);
      expect(await cache.lookup('id-2', options, 'q', ['a'])).toEqual([undefined]);
      const ttl = await client(server.url).ttl(pairKeys('rp-test:score-cache:id-1', 'id-1', options, 'q', ['a'])[0]!);
      expect(ttl).toBeGreaterThan(50);
      expect(await cache.identityOf('m')).toBeUndefined();
      await cache.publishIdentity('m', 'id-1');
      const api = new ScoreCache({ connection: redisOptionsFromUrl(server.url), prefix: 'rp-test', ttlSeconds: 60 });
      expect(await api.identityOf('m')).toBe('id-1');
      await api.close();
    } finally {
      await cache.close();
    }
  });
});
