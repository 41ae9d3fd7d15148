import type { RedisClient } from './open-redis.js';

/** QUIT gets this long; a connection that cannot reach Redis would wait for it for ever. */
const QUIT_TIMEOUT_MS = 1000;

/**
 * Closes a connection politely when Redis answers, and at once otherwise. A lazy client that never
 * connected (or one already ended) is only disconnected: a QUIT would make it connect first.
 */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'wait' || redis.status === 'end') {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, QUIT_TIMEOUT_MS, 'timeout');
  });
  const quit = redis.quit().then(
    () => 'quit' as const,
    () => 'quit' as const,
  );
  if ((await Promise.race([quit, timedOut])) === 'timeout') redis.disconnect();
  clearTimeout(timer);
}
