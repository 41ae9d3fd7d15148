import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { InteractiveReserve } from '../src/interactive-reserve.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';

const { prefix, cleanup } = testPrefix('reserve');
const redis = new Redis(REDIS_URL);

afterAll(async () => {
  redis.disconnect();
  await cleanup();
});

describe('when a worker runs no batch lines', () => {
  it('should read no queue events, start with the first line and stop a while after the last', async () => {
    const reserve = new InteractiveReserve({
      queueName: 'rerank-reserve-test',
      prefix,
      connection: redisOptionsFromUrl(REDIS_URL),
      redis,
      concurrency: 2,
      cancelJob: () => undefined,
    });
    try {
      await reserve.track('interactive-1', false, async () => undefined);
      expect(reserve.watching).toBe(false);
      let finish!: () => void;
      const line = reserve.track('bat-x:0', true, () => new Promise<void>((resolve) => (finish = resolve)));
      expect(reserve.watching).toBe(true);
      finish();
      await line;
      // Still read for a moment: the batch's next line usually follows at once.
      expect(reserve.watching).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 2300));
      expect(reserve.watching).toBe(false);
    } finally {
      await reserve.close();
    }
  });
});
