import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, listenOnLoopback } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';
import { expectErrorBody } from './helpers/raw-http.js';

/**
 * Issue 10: eight concurrent 25 MB bodies of deeply nested JSON killed the API ("Reached heap
 * limit"; one took 8.6 s and 1.46 GB to parse, four stalled /healthz for 13 s). These send
 * maximum-size hostile bodies over real HTTP, as the attack did, and print what they cost.
 */
let harness: Harness;
let port: number;
const MIB = 1024 * 1024;

beforeAll(async () => {
  // MAX_BODY_BYTES stays at its default (25 MiB): the bodies are as large as the API accepts.
  harness = await createHarness();
  port = await listenOnLoopback(harness.app);
});

afterAll(async () => {
  await harness.close();
});

const PREFIX = '{"query":"q","documents":["a"],"x":';

/** A body of exactly `size` bytes: the prefix, a filler of repeated `unit`s, then `close`. */
function bodyOf(size: number, unit: string, close: string, prefix = PREFIX): Buffer {
  const count = Math.floor((size - prefix.length - close.length) / unit.length);
  return Buffer.from(prefix + unit.repeat(count) + close);
}

const shapes = (size: number): Record<string, Buffer> => {
  const half = Math.floor((size - PREFIX.length) / 2);
  return {
    // What the issue sent: depth in the millions.
    deep: Buffer.concat([Buffer.from(PREFIX + '['.repeat(half)), Buffer.from(']'.repeat(half) + '}')]),
    // Wide arrays of tiny values and many keys: millions of values, refused by their count.
    'wide tiny values': bodyOf(size, '0,', '0]}', `${PREFIX}[`),
    'many keys': bodyOf(size, '"k":0,', '"k":0}', '{'),
    // The worst that passes the scan: ~65,000 empty objects (the value limit) and one huge string,
    // parsed, then refused by the schema (x is not a known field).
    'objects at the value limit plus a long string': Buffer.concat([
      Buffer.from(`${PREFIX}[${Array(64_000).fill('{}').join(',')}],"y":"`),
      Buffer.alloc(size - PREFIX.length - 192_100, 'a'),
      Buffer.from('"}'),
    ]),
  };
};

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function post(body: Buffer): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/v1/rerank', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function healthz(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    request({ port, host: '127.0.0.1', path: '/healthz', agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`healthz ${res.statusCode}`))));
    })
      .on('error', reject)
      .end();
  });
}

interface Measured<T> {
  result: T;
  peakRssMiB: number;
  peakHeapMiB: number;
  healthzMaxMs: number;
  healthzCount: number;
}

/** Runs `work` while sampling memory (growth over the start) and polling /healthz one request at a time. */
async function measure<T>(work: () => Promise<T>): Promise<Measured<T>> {
  const start = process.memoryUsage();
  let peakRss = start.rss;
  let peakHeap = start.heapUsed;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
  }, 2);
  let done = false;
  const latencies: number[] = [];
  const poller = (async () => {
    while (!done) latencies.push(await healthz());
  })();
  try {
    const result = await work();
    return {
      result,
      peakRssMiB: (peakRss - start.rss) / MIB,
      peakHeapMiB: (peakHeap - start.heapUsed) / MIB,
      healthzMaxMs: Math.max(0, ...latencies),
      healthzCount: latencies.length,
    };
  } finally {
    done = true;
    clearInterval(sampler);
    await poller;
  }
}

const fmt = (value: number) => value.toFixed(0);

describe('when eight maximum-size deeply nested bodies arrive at once', () => {
  it('should refuse each with 400, stay alive and bounded in memory, and keep answering /healthz', async () => {
    const maxBytes = harness.config.maxBodyBytes;
    const deep = shapes(maxBytes).deep;
    expect(deep.length).toBeLessThanOrEqual(maxBytes);
    await healthz();
    const measured = await measure(() => Promise.all(Array.from({ length: 8 }, () => post(deep))));
    for (const { status, json } of measured.result) {
      expect(status).toBe(400);
      expectErrorBody(json, 'invalid_request');
      expect((json as { error: { message: string } }).error.message).toBe('the body has nesting deeper than MAX_JSON_DEPTH (16)');
    }
    console.log(
      `8 x ${fmt(deep.length / MIB)} MiB nested bodies: RSS +${fmt(measured.peakRssMiB)} MiB, heap +${fmt(measured.peakHeapMiB)} MiB at peak; ` +
        `/healthz answered ${measured.healthzCount} times meanwhile, slowest ${fmt(measured.healthzMaxMs)} ms`,
    );
    // Before the fix one such body alone took 1.46 GB. The bound is generous: RSS includes the
    // test's own client and whatever the collector has not returned yet.
    expect(measured.peakRssMiB).toBeLessThan(400);
    expect(measured.healthzMaxMs).toBeLessThan(1000);
    expect(await healthz()).toBeLessThan(1000);
  });
});

describe('when eight maximum-size bodies of every hostile shape arrive at once', () => {
  it('should refuse each with 400 and keep /healthz responsive', async () => {
    const all = Object.values(shapes(harness.config.maxBodyBytes));
    const measured = await measure(() => Promise.all(Array.from({ length: 8 }, (_, i) => post(all[i % all.length]))));
    for (const { status, json } of measured.result) {
      expect(status).toBe(400);
      expectErrorBody(json, 'invalid_request');
    }
    console.log(
      `8 x 25 MiB bodies of 4 hostile shapes at once: RSS +${fmt(measured.peakRssMiB)} MiB, heap +${fmt(measured.peakHeapMiB)} MiB at peak; ` +
        `/healthz answered ${measured.healthzCount} times meanwhile, slowest ${fmt(measured.healthzMaxMs)} ms`,
    );
    expect(measured.peakRssMiB).toBeLessThan(800);
    expect(measured.healthzMaxMs).toBeLessThan(2000);
  });

  it('should cost each body a small multiple of its size (printed per shape)', async () => {
    const rows: string[] = [];
    for (const [name, body] of Object.entries(shapes(harness.config.maxBodyBytes))) {
      const measured = await measure(() => post(body));
      expect(measured.result.status).toBe(400);
      const size = body.length / MIB;
      rows.push(`${name}: ${fmt(size)} MiB body -> ${measured.result.status} (${(measured.result.json as { error: { message: string } }).error.message.slice(0, 60)}); ` +
        `RSS +${fmt(measured.peakRssMiB)} MiB (x${(measured.peakRssMiB / size).toFixed(1)}), heap +${fmt(measured.peakHeapMiB)} MiB (x${(measured.peakHeapMiB / size).toFixed(1)})`);
      expect(measured.peakHeapMiB / size).toBeLessThan(6);
    }
    console.log(rows.join('\n'));
  });
});
