import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { inOneWrite, redisOptionsFromUrl } from '../src/index.js';

const redis = new Redis(redisOptionsFromUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'));
const key = `rp-test-one-write-${process.pid}`;

afterAll(async () => {
  await redis.del(key);
  redis.disconnect();
});

/** Writes that reach the socket's handle while `run` goes: one per `_write`, one per `_writev`. */
async function socketWrites(run: () => Promise<unknown>): Promise<number> {
  const stream = redis.stream as unknown as { _write: (...args: unknown[]) => void; _writev?: (...args: unknown[]) => void };
  const write = stream._write;
  const writev = stream._writev;
  let count = 0;
  stream._write = function (...args) {
    count++;
    return write.apply(this, args);
  };
  if (writev) {
    stream._writev = function (...args) {
      count++;
      return writev.apply(this, args);
    };
  }
  try {
    await run();
  } finally {
    stream._write = write;
    if (writev) stream._writev = writev;
  }
  return count;
}

describe('when commands are issued through inOneWrite', () => {
  it('should send those issued now and in the microtasks after in one write, and answer each', async () => {
    await redis.ping();
    const issue = () => [
      redis.set(key, 'a'),
      Promise.resolve().then(() => redis.append(key, 'b')),
      (async () => {
        await null;
        await null;
        return redis.get(key);
      })(),
    ];
    const separate = await socketWrites(() => Promise.all(issue()));
    expect(separate).toBeGreaterThan(1);
    let replies: unknown[] = [];
    const together = await socketWrites(async () => {
      replies = await Promise.all(inOneWrite(redis, issue));
    });
    expect(together).toBe(1);
    expect(replies).toEqual(['OK', 2, 'ab']);
  });

  it('should send as usual on a connection not yet ready', async () => {
    const lazy = new Redis({ ...redisOptionsFromUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'), lazyConnect: true });
    try {
      expect(await inOneWrite(lazy, () => lazy.ping())).toBe('PONG');
    } finally {
      lazy.disconnect();
    }
  });
});
