import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchFixture } from './support/batch-fixture.js';
import type { BatchFixture } from './support/batch-fixture.js';
import { startPrivateRedis, watchMemory } from './support/private-redis.js';
import type { PrivateRedis } from './support/private-redis.js';

let redis: PrivateRedis;
let fixture: BatchFixture;

beforeAll(async () => {
  redis = await startPrivateRedis();
  fixture = await batchFixture({ connection: redisOptionsFromUrl(redis.url) });
});

afterAll(async () => {
  await fixture.close();
  await redis.stop();
});

const WINDOW_LINES = 300;
const LINES = 12_000;
/** About 2 KB per line: the input is 40 windows, 24 MB. */
const PASSAGE = 'lorem ipsum dolor sit amet '.repeat(36);

describe('when a batch forty times larger than its window runs', () => {
  it('should keep Redis memory within the window bound the whole time', async () => {
    const service = fixture.service({ windowLines: WINDOW_LINES, feedChunkLines: 100, resultsPartLines: 100, partLines: 2000 });
    service.startDriving();
    const lines = Array.from({ length: LINES }, (_, n) => JSON.stringify({ id: `line-${n}`, query: `q${n}`, documents: [`${PASSAGE} ${n}`, `${PASSAGE} b`] }));
    const inputBytes = lines.reduce((sum, line) => sum + line.length + 1, 0);
    fixture.worker({ concurrency: 32 });
    // One line through first, so BullMQ's scripts and the event stream's fixed cost are in the baseline.
    await fixture.waitFinished(service, await fixture.upload(service, [lines[0]!]));
    const memory = await watchMemory(redis.port, 25);
    const batchId = await fixture.upload(service, lines);
    const state = await fixture.waitFinished(service, batchId, 120_000);
    const peak = await memory.stop();

    expect(state).toMatchObject({ total: LINES, completed: LINES });
    const windowBytes = (inputBytes / LINES) * WINDOW_LINES;
    // The bound the README states: twice the window's input (job payloads and results), 2 KB of
    // bookkeeping per window line, and the queue's event stream (BullMQ keeps 10,000 events).
    const bound = 2 * windowBytes + WINDOW_LINES * 2048 + 4 * 1024 * 1024;
    console.log(`redis window bound: input ${(inputBytes / 1e6).toFixed(1)} MB, window ${WINDOW_LINES} lines (${(windowBytes / 1e6).toFixed(2)} MB), peak ${(peak / 1e6).toFixed(2)} MB over baseline, bound ${(bound / 1e6).toFixed(2)} MB`);
    expect(peak).toBeLessThan(bound);
    expect(peak).toBeLessThan(inputBytes / 4);
  });
});
