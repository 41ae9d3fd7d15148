import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, listenOnLoopback } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

let harness: Harness;
let port: number;
const LINES = 100_000;
const WINDOW = 2000;

beforeAll(async () => {
  harness = await createHarness({ BATCH_WINDOW_LINES: String(WINDOW) });
  port = await listenOnLoopback(harness.app);
});

afterAll(async () => {
  await harness.close();
}, 120_000);

/** Streams `LINES` NDJSON lines in 1,000-line writes, as a client uploading a file would. */
function upload(): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/batches', method: 'POST', headers: { 'content-type': 'application/x-ndjson' } });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    let i = 0;
    const writeMore = () => {
      while (i < LINES) {
        let text = '';
        for (const end = Math.min(LINES, i + 1000); i < end; i++) {
          text += `${JSON.stringify({ id: i, query: `what is item ${i}`, documents: [`first passage ${i}`, `second passage ${i}`] })}\n`;
        }
        if (!req.write(text)) return void req.once('drain', writeMore);
      }
      req.end();
    };
    writeMore();
  });
}

/**
 * Not a timed assertion: it proves a 100,000-line batch is accepted into the batch store with
 * at most a window of it in the queues, and prints how long acceptance took (the README's number).
 */
describe('when a 100,000-line NDJSON batch of 1 query x 2 documents is uploaded', () => {
  it('should accept every line and queue no more than the window', async () => {
    const started = performance.now();
    const { status, body } = await upload();
    const seconds = (performance.now() - started) / 1000;
    expect(status).toBe(202);
    expect(body.total).toBe(LINES);
    // The driver tops the window up at once; nothing consumes it here.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const queued = await harness.jobCount();
    expect(queued).toBeGreaterThan(0);
    expect(queued).toBeLessThanOrEqual(WINDOW);
    console.log(`accepted ${LINES} lines in ${seconds.toFixed(2)} s (${Math.round(LINES / seconds)} lines/s); ${queued} queued (window ${WINDOW})`);
  }, 300_000);
});
