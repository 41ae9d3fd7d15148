import { createHmac, randomBytes } from 'node:crypto';
import type { RedisClient } from '@rerank-pool/redis-connection';
import { keys } from './keys.js';

/** Bytes of the idempotency secret: as many as the HMAC's hash, so the key is never the weak part. */
const SECRET_BYTES = 32;

/**
 * The job id for an idempotency key: an HMAC of tenant and key under the deployment's secret
 * (`IdempotencySecret`). Without the secret nobody can compute another tenant's id from a key they
 * guessed or saw; with it every replica computes the same id, so the same key never creates a
 * second computation (BullMQ ignores an add whose id exists). Hex keeps ids free of ':' (forbidden
 * in BullMQ custom ids) and of any length limit.
 */
export function idempotentJobId(secret: Buffer, tenant: string, idempotencyKey: string): string {
  const digest = createHmac('sha256', secret).update(tenant).update('\0').update(idempotencyKey).digest('hex');
  return `idem-${digest.slice(0, 40)}`;
}

/**
 * The secret that ids derived from idempotency keys are keyed with (jobs here, batches in
 * @rerank-pool/batches): 32 random bytes created once per QUEUE_PREFIX in Redis (SET NX, so the
 * first replica's wins and every other reads it) and cached for the life of this object.
 *
 * Kept in Redis rather than in a setting: every replica already shares that Redis, so nothing has
 * to be generated, distributed or rotated by hand, and the secret lives exactly as long as the jobs
 * and batches its ids name (a new Redis forgets both together, so a key re-sent after that is a new
 * job either way). Whoever can read Redis can read the secret, but they can read the jobs too. It
 * has no TTL; BullMQ already requires `maxmemory-policy noeviction`, so it is never evicted.
 */
export class IdempotencySecret {
  private loading?: Promise<Buffer>;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  get(): Promise<Buffer> {
    // A failed read (Redis unreachable) is not cached: the next request asks again.
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async load(): Promise<Buffer> {
    const key = keys.idempotencySecret(this.prefix);
    const replies = await this.redis.multi().set(key, randomBytes(SECRET_BYTES).toString('hex'), 'NX').get(key).exec();
    const [error, stored] = replies?.[1] ?? [new Error(`reading ${key} was aborted`), null];
    if (error) throw error;
    if (typeof stored !== 'string' || stored.length !== SECRET_BYTES * 2) throw new Error(`${key} holds no idempotency secret`);
    return Buffer.from(stored, 'hex');
  }
}
