import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { closeQueue } from '../src/index.js';
import { connection, deleteKeys, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix();
const rejections: unknown[] = [];
const record = (reason: unknown) => rejections.push(reason);

afterEach(async () => {
  process.off('unhandledRejection', record);
  rejections.length = 0;
  await deleteKeys(prefix);
});

describe('closeQueue', () => {
  it('should leave no unhandled rejection behind a queue closed while it is still connecting', async () => {
    process.on('unhandledRejection', record);
    // A plain `queue.close()` at these delays leaves "Connection is closed." rejections.
    for (const delayMs of [0, 1, 2, 3, 5, 8]) {
      for (let round = 0; round < 10; round++) {
        const queue = new Queue('close-test', { connection, prefix });
        queue.on('error', () => {});
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        await closeQueue(queue);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(rejections).toEqual([]);
  });

  it('should still close a queue whose Redis never answers', async () => {
    const queue = new Queue('close-test', { connection: { ...connection, port: 1 }, prefix });
    queue.on('error', () => {});
    await expect(closeQueue(queue, 100)).resolves.toBeUndefined();
  }, 5000);
});
