import { Redis } from 'ioredis';
import { Queue, Worker } from 'bullmq';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import type { RerankJobData } from '@rerank-pool/contracts';
import { RerankQueue, publishResult, queueNameForModel } from '../src/index.js';
import { connection, deleteKeys, jobData, resultFor, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix();
const redis = new Redis(connection);
const bull = new Queue<RerankJobData>(queueNameForModel('org/tiny'), { connection, prefix });

afterAll(async () => {
  redis.disconnect();
  await bull.close();
  await deleteKeys(prefix);
});

function openQueue(): RerankQueue {
  const queue = new RerankQueue('org/tiny', { connection, prefix });
  onTestFinished(() => queue.close());
  return queue;
}

describe('when a worker publishes a result on the job’s replyTo channel', () => {
  it('should answer the wait from the message alone, before BullMQ records anything', async () => {
    const queue = openQueue();
    let enqueued: { jobId: string; replyTo: string } | undefined;
    // Nobody consumes the queue: the job stays queued, so only the published reply can answer.
    const waiting = queue.submitAndWait(async (replyTo) => {
      const added = await queue.enqueue({ ...jobData(), replyTo });
      enqueued = { jobId: added.jobId, replyTo };
      return added;
    }, 2, 5000);
    await expect.poll(() => enqueued, { timeout: 5000 }).toBeDefined();
    const job = await bull.getJob(enqueued!.jobId);
    expect(job?.data.replyTo).toBe(enqueued!.replyTo);
    publishResult(redis, enqueued!.replyTo, enqueued!.jobId, resultFor(job!.data, [0.25, 0.75]));
    const outcome = await waiting;
    expect(outcome.result.scores).toEqual([0.25, 0.75]);
    expect(await bull.getJobState(outcome.jobId)).not.toBe('completed');
  });

  it('should ignore malformed messages and replies for jobs nobody waits on, and still answer from the completion event', async () => {
    const queue = openQueue();
    const worker = new Worker<RerankJobData>(queueNameForModel('org/tiny'), async (job) => resultFor(job.data, [0.5, 0.5]), { connection, prefix });
    onTestFinished(() => worker.close());
    const outcome = await queue.submitAndWait(async (replyTo) => {
      await redis.publish(replyTo, 'not json');
      await redis.publish(replyTo, JSON.stringify({ job: 42 }));
      publishResult(redis, replyTo, 'some-other-job', resultFor(jobData(), [0.9, 0.9]));
      return queue.enqueue({ ...jobData(), replyTo });
    }, 2, 5000);
    expect(outcome.result.scores).toEqual([0.5, 0.5]);
    expect(await bull.getJobState(outcome.jobId)).toBe('completed');
  });

  it('should give each API process a channel of its own', () => {
    const [a, b] = [openQueue(), openQueue()];
    const channels = new Set<string>();
    const record = (replyTo: string) => {
      channels.add(replyTo);
      return Promise.reject(new Error('not enqueued'));
    };
    return Promise.allSettled([a.submitAndWait(record, 1, 1000), b.submitAndWait(record, 1, 1000)]).then(() => {
      expect(channels.size).toBe(2);
      for (const channel of channels) expect(channel.startsWith(`${prefix}:results:`)).toBe(true);
    });
  });

  it('should still answer from the completion event when its Redis user may not subscribe', async () => {
    // A user of its own, deleted after: allowed everything but SUBSCRIBE and PSUBSCRIBE.
    const user = `rp-test-no-subscribe-${process.pid}`;
    await redis.call('ACL', 'SETUSER', user, 'on', '>secret', '~*', '&*', '+@all', '-subscribe', '-psubscribe');
    onTestFinished(async () => {
      await redis.call('ACL', 'DELUSER', user);
    });
    const queue = new RerankQueue('org/tiny', { connection: { ...connection, username: user, password: 'secret' }, prefix });
    onTestFinished(() => queue.close());
    const worker = new Worker<RerankJobData>(queueNameForModel('org/tiny'), async (job) => resultFor(job.data, [0.125, 0.625]), { connection, prefix });
    onTestFinished(() => worker.close());
    const outcome = await queue.submitAndWait((replyTo) => queue.enqueue({ ...jobData(), replyTo }), 2, 5000);
    expect(outcome.result.scores).toEqual([0.125, 0.625]);
  });
});
