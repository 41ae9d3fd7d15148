import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { deleteKeysWithPrefix } from '../../src/index.js';
import type { RerankJobData, RerankJobResult } from '@rerank-pool/contracts';

export const connection = redisOptionsFromUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

/** A BullMQ prefix no other test file uses, so files never see each other's jobs. */
export function uniquePrefix(): string {
  return `rp-test-${randomBytes(6).toString('hex')}`;
}

export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(connection);
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
}

export function jobData(overrides: Partial<RerankJobData> = {}): RerankJobData {
  return {
    v: 1,
    model: 'org/tiny',
    query: 'what is a cross-encoder?',
    documents: ['a cross-encoder scores pairs', 'bananas'],
    options: {},
    priority: 'interactive',
    tenant: 'default',
    createdAt: Date.now(),
    ...overrides,
  };
}

/** A result as a worker would return it; scores are fixed per index by the test. */
export function resultFor(data: RerankJobData, scores = data.documents.map((_, index) => 1 / (index + 2))): RerankJobResult {
  return {
    v: 1,
    model: data.model,
    scores,
    logits: scores.map((score) => Math.log(score / (1 - score))),
    inputTokens: 7 * data.documents.length,
    timings: { queueMs: 1, inferenceMs: 2 },
  };
}

export function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const poll = async () => {
      if (await predicate()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error('condition not met in time'));
      setTimeout(() => poll().catch(reject), 20);
    };
    poll().catch(reject);
  });
}
