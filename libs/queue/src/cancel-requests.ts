import { EventEmitter } from 'node:events';
import { closeRedis, openRedis } from '@rerank-pool/redis-connection';
import type { RedisClient, RedisTarget } from '@rerank-pool/redis-connection';
import { keys } from './keys.js';

/**
 * The abort reason a worker gives a job whose cancellation was asked for (its synchronous client
 * went away). A job aborted for this reason ends `cancelled`; one aborted for any other reason
 * (a worker shutting down) is handed back to its queue and runs again.
 */
export const CANCEL_REQUESTED = 'cancellation requested: the client that was waiting for the job went away';

/** Whether an AbortSignal's reason is a cancellation request (not a shutdown's hand-back). */
export function isCancelRequest(reason: unknown): boolean {
  return reason === CANCEL_REQUESTED;
}

/**
 * How long a cancellation request waits for a worker to pick its job up: a job whose worker died
 * runs again after its lock expires (seconds) or after a retry's backoff, and must still stop.
 */
const CANCEL_REQUEST_TTL_SECONDS = 3600;

interface CancelMessage {
  queue: string;
  job: string;
}

/**
 * Asks whichever worker runs the job, now or later, to stop it: a marker every worker checks when
 * it picks a job up, and a message for the worker running it now. Marker and message go in one
 * transaction, before the caller tries to remove the job while still queued: a worker that locks
 * the job before that removal then either finds the marker at pick-up or is already tracking the
 * job when the message arrives.
 */
export async function requestCancel(redis: RedisClient, prefix: string, queueName: string, jobId: string): Promise<void> {
  const message: CancelMessage = { queue: queueName, job: jobId };
  const replies = await redis
    .multi()
    .set(keys.cancelRequested(prefix, queueName, jobId), '1', 'EX', CANCEL_REQUEST_TTL_SECONDS)
    .publish(keys.cancelChannel(prefix), JSON.stringify(message))
    .exec();
  const failed = replies?.find(([error]) => error);
  if (!replies || failed) throw failed?.[0] ?? new Error(`cancelling job ${jobId}: the transaction was aborted`);
}

export interface CancelRequestListenerEvents {
  /** A cancellation was asked for: stop `jobId` of `queueName` if this process runs it. */
  cancel: [queueName: string, jobId: string];
}

/**
 * A worker process's subscription to cancellation requests: one connection in subscriber mode
 * (ioredis subscribes again by itself after a reconnect). A message sent while it was
 * disconnected is lost; the marker `pickUpJob` checks covers jobs picked up after the request.
 */
export class CancelRequestListener extends EventEmitter<CancelRequestListenerEvents> {
  private readonly subscriber: RedisClient;
  private closing?: Promise<void>;

  constructor(
    connection: RedisTarget,
    private readonly prefix: string,
  ) {
    super();
    // On a cluster, a message published on any node reaches subscribers of every node.
    this.subscriber = openRedis(connection);
    // Reconnects by itself; the worker logs the outage from its own connection.
    this.subscriber.on('error', () => {});
    this.subscriber.on('message', (channel, raw) => {
      if (channel !== keys.cancelChannel(this.prefix)) return;
      let message: Partial<CancelMessage>;
      try {
        message = JSON.parse(raw) as Partial<CancelMessage>;
      } catch {
        return;
      }
      if (typeof message.queue === 'string' && typeof message.job === 'string') this.emit('cancel', message.queue, message.job);
    });
  }

  /** Resolves once subscribed: requests published from then on are heard. */
  async start(): Promise<void> {
    await this.subscriber.subscribe(keys.cancelChannel(this.prefix));
  }

  /** Idempotent; bounded even when Redis is unreachable. */
  close(): Promise<void> {
    this.closing ??= closeRedis(this.subscriber);
    return this.closing;
  }
}
