import { within } from './within.js';

/** What BullMQ's Queue, FlowProducer and Worker share for shutdown. */
export interface ClosableQueue {
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Closes a BullMQ object after letting its connection finish starting. Closed while still
 * connecting, BullMQ disconnects instead of quitting, and commands already sent (its own start-up
 * reads, a dashboard's first query) reject with nobody awaiting them: unhandled rejections. An
 * unreachable Redis must not hold shutdown, so the wait is bounded.
 */
export async function closeQueue(queue: ClosableQueue, readyTimeoutMs = 1000): Promise<void> {
  await within(queue.waitUntilReady().catch(() => undefined), readyTimeoutMs);
  await queue.close();
}
