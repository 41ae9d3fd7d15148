import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAll, patternChunks, readAll, storeBackends, type OpenedStore } from './support/stores.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe.each(storeBackends())('when writing an object from a stream ($name)', (backend) => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await backend.open();
  });
  afterEach(async () => {
    await opened.close();
  });

  it('should store ~20 MB written in chunks byte for byte (multipart on S3)', async () => {
    // 320 x 64 KiB = 20 MiB: three 8 MiB parts on S3, many coalesced writes on disk.
    const chunks = [...patternChunks(320, 64 * 1024)];
    const expected = Buffer.concat(chunks);
    async function* body() {
      yield* chunks;
    }

    const { bytes } = await opened.store.putStream('batch/results.jsonl', body());

    expect(bytes).toBe(expected.length);
    expect(await opened.store.head('batch/results.jsonl')).toEqual({ size: expected.length });
    const stored = await readAll(await opened.store.read('batch/results.jsonl'));
    expect(stored.length).toBe(expected.length);
    expect(sha256(stored)).toBe(sha256(expected));
  });

  it('should accept string chunks and count their UTF-8 bytes', async () => {
    async function* lines() {
      yield '{"id":"é"}\n';
      yield Buffer.from('{"id":"b"}\n');
      yield '{"id":"☕"}\n';
    }

    const { bytes } = await opened.store.putStream('lines.jsonl', lines());

    const stored = await readAll(await opened.store.read('lines.jsonl'));
    expect(stored.toString()).toBe('{"id":"é"}\n{"id":"b"}\n{"id":"☕"}\n');
    expect(bytes).toBe(stored.length);
  });

  it('should store an empty object from an empty stream', async () => {
    async function* nothing(): AsyncGenerator<Buffer> {}

    expect(await opened.store.putStream('empty', nothing())).toEqual({ bytes: 0 });

    expect(await opened.store.head('empty')).toEqual({ size: 0 });
    expect(await listAll(opened.store, '')).toEqual(['empty']);
  });
});
