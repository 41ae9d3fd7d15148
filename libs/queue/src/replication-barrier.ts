import { RerankPoolError } from '@rerank-pool/contracts';
import { openRedis, REQUEST_COMMAND_TIMEOUT_MS, requestRedisOptions } from '@rerank-pool/redis-connection';
import type { RedisClient, RedisTarget } from '@rerank-pool/redis-connection';

export interface ReplicationBarrierOptions {
  /** Replicas that must hold a write before it is acknowledged (REDIS_WAIT_REPLICAS). */
  replicas: number;
  /** How long one WAIT may take (REDIS_WAIT_TIMEOUT_MS). */
  timeoutMs: number;
}

/** Seconds a client refused for want of replicas is told to wait: a replica reconnects within seconds. */
const RETRY_AFTER_SECONDS = 2;

/** What the barrier acknowledges: a job (POST /v1/jobs) or a batch (POST /v1/batches). */
export interface Acknowledged {
  kind: 'job' | 'batch';
  id: string;
}

/**
 * The fail-fast request connection writes go out on, and the barrier that confirms them when
 * `wait` asks for replicas (none otherwise). WAIT counts the replicas that reached the last write
 * of the connection it runs on, so both must be the one connection; and a WAIT holds its command
 * up to its timeout, which the connection must not give up on first.
 */
export function openConfirmedWrites(connection: RedisTarget, wait: ReplicationBarrierOptions): { redis: RedisClient; replication?: ReplicationBarrier } {
  const commandTimeoutMs = wait.replicas > 0 ? Math.max(REQUEST_COMMAND_TIMEOUT_MS, wait.timeoutMs + 500) : undefined;
  const redis = openRedis(requestRedisOptions(connection, commandTimeoutMs));
  return { redis, replication: wait.replicas > 0 ? new ReplicationBarrier(redis, wait) : undefined };
}

/**
 * Acknowledges writes only once replicas have them (Redis WAIT), so a failover right after cannot
 * lose an acknowledged job: replication is asynchronous, and a master killed before its replica
 * read a write takes the write with it.
 *
 * WAIT counts the replicas that reached the connection's own last write, so it runs on the
 * connection the writes went out on, and it holds that connection while it waits: calls made
 * while a WAIT is out share the next one (it covers every write sent before it), so one WAIT at a
 * time is out however many requests confirm at once.
 */
export class ReplicationBarrier {
  private inFlight?: Promise<number>;
  private next?: Promise<number>;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: ReplicationBarrierOptions,
  ) {}

  /**
   * Resolves once `replicas` replicas hold every write sent on the connection before this call;
   * rejects with `unavailable` (503, naming the job or batch, which exists on the master and may
   * still run) when fewer have it within the timeout.
   */
  async confirm({ kind, id }: Acknowledged): Promise<void> {
    const acknowledged = await this.nextWait();
    if (acknowledged >= this.options.replicas) return;
    throw new RerankPoolError(
      'unavailable',
      `${kind} ${id} was written but ${acknowledged} of the ${this.options.replicas} replicas REDIS_WAIT_REPLICAS asks for confirmed it within ${this.options.timeoutMs} ms, so a failover could lose it; it may still run: poll GET /v1/${kind}s/${id}, or retry with the same idempotency_key`,
      { jobId: kind === 'job' ? id : undefined, retryAfterSeconds: RETRY_AFTER_SECONDS },
    );
  }

  private nextWait(): Promise<number> {
    if (!this.inFlight) return (this.inFlight = this.sendWait());
    // Sent once the one out returns, so it covers this caller's writes, which went out after it.
    this.next ??= this.inFlight.catch(() => 0).then(() => {
      this.next = undefined;
      return (this.inFlight = this.sendWait());
    });
    return this.next;
  }

  private sendWait(): Promise<number> {
    const waiting = (this.redis.call('WAIT', this.options.replicas, this.options.timeoutMs) as Promise<number>).finally(() => {
      if (this.inFlight === waiting) this.inFlight = undefined;
    });
    return waiting;
  }
}
