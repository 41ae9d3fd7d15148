import type { RedisClient } from '@rerank-pool/redis-connection';
import { closeRedis } from '@rerank-pool/redis-connection';
import { within } from './within.js';

/** What BullMQ's Queue, QueueEvents and FlowProducer share for shutdown. */
export interface ClosableQueue {
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
  disconnect(): Promise<void>;
}

/** Bounds of each step of closing one BullMQ object. */
const READY_TIMEOUT_MS = 1000;
const CLOSE_TIMEOUT_MS = 1000;

/**
 * Closes a BullMQ object (Queue, QueueEvents, FlowProducer) within about two seconds whatever Redis does. It first lets the
 * connection finish starting: closed while still connecting, BullMQ disconnects instead of
 * quitting, and commands already sent (its own start-up reads, a dashboard's first query) reject
 * with nobody awaiting them. A QUIT that cannot reach Redis waits for ever, so a close that does
 * not end in time becomes a disconnect.
 */
export async function closeQueue(queue: ClosableQueue, readyTimeoutMs = READY_TIMEOUT_MS): Promise<void> {
  await within(queue.waitUntilReady().catch(() => undefined), readyTimeoutMs);
  const closing = queue.close();
  if ((await within(closing.catch(() => undefined), CLOSE_TIMEOUT_MS)) === 'timeout') {
    closing.catch(() => undefined);
    await queue.disconnect().catch(() => undefined);
  }
}

/**
 * Closes BullMQ objects that share one ioredis connection (`connection: redis`), and the
 * connection itself, first: BullMQ drops its listeners when it closes, and a connection that never
 * got ready would then fail BullMQ's start-up wait with nobody listening (an unhandled rejection).
 */
export async function closeSharedConnection(redis: RedisClient, queues: ReadonlyArray<ClosableQueue | undefined>): Promise<void> {
  await closeRedis(redis);
  await Promise.allSettled(queues.map((queue) => queue && closeQueue(queue)));
}
