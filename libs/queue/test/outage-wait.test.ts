import { afterEach, describe, expect, it } from 'vitest';
import type { RerankJobData } from '@rerank-pool/contracts';
import { startPrivateRedis } from '../../batches/test/support/private-redis.js';
import type { PrivateRedis } from '../../batches/test/support/private-redis.js';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { RerankQueue } from '../src/index.js';

const OUTAGE_GRACE_MS = 1000;

let redis: PrivateRedis | undefined;
let queue: RerankQueue | undefined;

afterEach(async () => {
  await queue?.close();
  await redis?.stop();
  queue = undefined;
  redis = undefined;
});

const data: RerankJobData = {
  v: 1,
  model: 'org/tiny',
  query: 'q',
  documents: ['a'],
  options: {},
  priority: 'interactive',
  tenant: 'default',
  createdAt: Date.now(),
};

/**
 * A synchronous request already waiting for its job when Redis goes away is answered
 * `unavailable`, with its job id, once the outage has lasted `outageGraceMs`; not held until
 * Redis returns or its own timeout (every failed reconnect attempt closes the connection again,
 * which must not restart the grace).
 */
describe('when Redis goes away while a result is awaited', () => {
  it('should answer unavailable with the job id after the outage grace', async () => {
    redis = await startPrivateRedis();
    queue = new RerankQueue('org/tiny', { connection: redisOptionsFromUrl(redis.url), prefix: 'rp-outage-wait', outageGraceMs: OUTAGE_GRACE_MS });
    const waiting = queue.submitAndWait(() => queue!.enqueue(data), 1, 30_000).catch((error: unknown) => error);
    // No worker: the job stays queued, the request waits.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stoppedAt = Date.now();
    await redis.stop();
    const error = (await waiting) as { code: string; jobId?: string; retryAfterSeconds?: number };
    const answeredAfterMs = Date.now() - stoppedAt;
    expect(error).toMatchObject({ code: 'unavailable', retryAfterSeconds: 2 });
    expect(error.jobId).toEqual(expect.any(String));
    expect(answeredAfterMs).toBeGreaterThanOrEqual(OUTAGE_GRACE_MS - 50);
    expect(answeredAfterMs).toBeLessThan(OUTAGE_GRACE_MS + 2000);
  });
});
