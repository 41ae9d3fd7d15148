import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { readPendingPairs } from '@rerank-pool/queue';
import { batchFixture, connection, requestLine } from './support/batch-fixture.js';
import type { BatchFixture } from './support/batch-fixture.js';

let fixture: BatchFixture;
let redis: Redis | undefined;

afterEach(async () => {
  await redis?.quit();
  redis = undefined;
  await fixture.close();
});

describe('when batch lines are queued and the batch is cancelled', () => {
  it('should count the pairs of the queued lines as batch_line, and return to 0', async () => {
    fixture = await batchFixture();
    redis = new Redis(connection);
    const service = fixture.service({ windowLines: 50, feedChunkLines: 25 });
    service.startDriving();
    // No worker: the lines wait. Lines of 1 to 4 documents.
    const lines = Array.from({ length: 200 }, (_, n) => requestLine(n, { documents: Array.from({ length: (n % 4) + 1 }, (_, i) => `d${i}`) }));
    const batchId = await fixture.upload(service, lines);
    const pending = () => readPendingPairs(redis!, fixture.queue.qualifiedName, ['interactive', 'batch', 'batch_line']);
    while ((await fixture.queue.getJobCountByTypes('prioritized', 'waiting')) < 50) await new Promise((resolve) => setTimeout(resolve, 10));

    const queued = await fixture.queue.getJobs(['prioritized', 'waiting']);
    const documents = queued.reduce((sum, job) => sum + (job.data.documents as unknown[]).length, 0);
    expect(documents).toBeGreaterThan(queued.length);
    expect(await pending()).toEqual({ interactive: 0, batch: 0, batch_line: documents });

    await service.cancel(batchId, 'default');
    await fixture.waitFinished(service, batchId);
    expect(await pending()).toEqual({ interactive: 0, batch: 0, batch_line: 0 });
  });
});
