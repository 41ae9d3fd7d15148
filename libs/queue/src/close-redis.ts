import type { RedisClient } from '@rerank-pool/redis-connection';
import { within } from './within.js';

/** QUIT gets this long; a connection that cannot reach Redis would wait for it for ever. */
const QUIT_TIMEOUT_MS = 1000;

/** Closes an ioredis connection politely when Redis answers, and at once otherwise. */
export async function closeRedis(redis: RedisClient): Promise<void> {
  const quit = redis.quit().catch(() => undefined);
  if ((await within(quit, QUIT_TIMEOUT_MS)) === 'timeout') redis.disconnect();
}
