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
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, readyTimeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([queue.waitUntilReady().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
  await queue.close();
}
