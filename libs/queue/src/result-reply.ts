import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@rerank-pool/redis-connection';
import type { RerankJobResult } from '@rerank-pool/contracts';

/** What a worker publishes on a job's `replyTo` channel. */
export interface ResultReply {
  job: string;
  result: RerankJobResult;
}

/** A new channel for one API process's waits on `queueName` (a uuid: no two processes share one). */
export function newReplyChannel(prefix: string, queueName: string): string {
  return `${prefix}:results:${queueName}:${randomUUID()}`;
}

/**
 * Publishes a synchronous job's result to the API process waiting for it, before BullMQ records
 * it: the caller is answered without waiting for the completion script and the event stream's
 * delivery (about 0.3 ms of each request here). Fire and forget: a message nobody hears (the
 * API reconnecting, a lost connection here) costs nothing, since the completion event follows.
 */
export function publishResult(redis: RedisClient, replyTo: string, jobId: string, result: RerankJobResult): void {
  const reply: ResultReply = { job: jobId, result };
  redis.publish(replyTo, JSON.stringify(reply)).catch(() => undefined);
}

/** The reply in a message, or undefined for anything else on the channel. */
export function parseResultReply(raw: string): { job: string; result: unknown } | undefined {
  let reply: Partial<Record<keyof ResultReply, unknown>>;
  try {
    reply = JSON.parse(raw) as typeof reply;
  } catch {
    return undefined;
  }
  return typeof reply.job === 'string' ? { job: reply.job, result: reply.result } : undefined;
}
