import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, listenOnLoopback } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';
import { nextResponse, openConnection, requestHead, sleep } from './helpers/raw-connection.js';
import type { RawConnection } from './helpers/raw-connection.js';

// The shortest lease the configuration allows; bytes come slower than that, but well within the idle timeout.
const LEASE_MS = 1000;
const IDLE_MS = 2500;
const CHUNK_EVERY_MS = 1500;

let harness: Harness;
let port: number;

beforeAll(async () => {
  harness = await createHarness({ BATCH_UPLOAD_LEASE_MS: String(LEASE_MS), HTTP_IDLE_TIMEOUT_MS: String(IDLE_MS) });
  port = await listenOnLoopback(harness.app);
});

afterAll(async () => {
  await harness.close();
});

function lines(count: number, tag: string): string {
  return Array.from({ length: count }, (_, i) => `${JSON.stringify({ id: `${tag}-${i}`, query: `query ${i}`, documents: [`${i + 10} a`, 'b'] })}\n`).join('');
}

/** Opens an NDJSON upload whose body the test writes (Content-Length framed, so a cut is visible). */
async function openUpload(key: string, body: string): Promise<RawConnection> {
  const connection = await openConnection(port);
  connection.write(requestHead('POST', `/v1/batches?idempotency_key=${key}`, 'application/x-ndjson', Buffer.byteLength(body)));
  return connection;
}

function secondUpload(key: string, body: string) {
  return harness.app.inject({ method: 'POST', url: `/v1/batches?idempotency_key=${key}`, headers: { 'content-type': 'application/x-ndjson' }, payload: body });
}

describe('when an upload sends a few bytes at a time, slower than BATCH_UPLOAD_LEASE_MS between chunks', () => {
  it('should keep its lease while bytes keep coming: a second upload with the same key gets 409 batch_busy, the first completes', async () => {
    const body = lines(3, 'slow');
    const first = await openUpload('slow-upload', body);
    const pieces = 5;
    const size = Math.ceil(body.length / pieces);
    let busy: Awaited<ReturnType<typeof secondUpload>> | undefined;
    for (let piece = 0; piece < pieces; piece++) {
      first.write(body.slice(piece * size, (piece + 1) * size));
      if (piece === pieces - 1) break;
      await sleep(CHUNK_EVERY_MS);
      // Two chunks in, more than two leases have passed since the upload began.
      if (piece === 1) busy = await secondUpload('slow-upload', lines(5, 'thief'));
    }
    expect(busy!.statusCode).toBe(409);
    expect(busy!.json().error.code).toBe('batch_busy');
    expect(Number(busy!.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    const accepted = await nextResponse(first, 10_000);
    expect(accepted.status).toBe(202);
    const { id, total } = JSON.parse(accepted.body);
    expect(total).toBe(3);
    first.socket.destroy();
    // The same key now names the finished upload: its batch, its three lines, none of the thief's.
    const again = await secondUpload('slow-upload', lines(5, 'thief'));
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ id, total: 3 });
  }, 30_000);
});

describe('when an upload stops sending for HTTP_IDLE_TIMEOUT_MS', () => {
  it('should be cut with 408, give its lease up, and let the same upload sent again continue', async () => {
    const body = lines(4, 'cut');
    const first = await openUpload('stalled-upload', body);
    first.write(body.slice(0, 40));
    const { text, afterMs } = await first.closed;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(afterMs).toBeLessThan(IDLE_MS + 1500);
    // Released when the request ended, not a lease later.
    const resent = await secondUpload('stalled-upload', body);
    expect(resent.statusCode).toBe(202);
    expect(resent.json().total).toBe(4);
  }, 30_000);
});
