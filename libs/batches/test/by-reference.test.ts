import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { batchFixture, requestLine, scoreOf } from './support/batch-fixture.js';
import type { BatchFixture } from './support/batch-fixture.js';

let fixture: BatchFixture;

afterEach(async () => {
  await fixture.close();
});

async function writeInput(dir: string, name: string, lines: readonly string[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return pathToFileURL(path).href;
}

describe('when a batch names its input and output by URL', () => {
  it('should read the input where it is, write the results to the output URL and serve them too', async () => {
    fixture = await batchFixture();
    const data = join(fixture.storeDir, 'shared');
    const service = fixture.service({ urlPrefixes: [pathToFileURL(data).href], windowLines: 100, feedChunkLines: 30 });
    service.startDriving();
    fixture.worker();
    const lines = Array.from({ length: 700 }, (_, n) => requestLine(n));
    // Blank lines and CRLF line ends are part of real files.
    const inputUrl = await writeInput(data, 'in.jsonl', [...lines.slice(0, 10), '', ...lines.slice(10).map((line) => `${line}\r`)]);
    const outputUrl = pathToFileURL(join(data, 'out', 'results.jsonl')).href;

    const batchId = await service.createByReference({ tenant: 'default', idempotencyKey: 'ref-1' }, { inputUrl, outputUrl });
    // The same key names the same batch.
    expect(await service.createByReference({ tenant: 'default', idempotencyKey: 'ref-1' }, { inputUrl, outputUrl })).toBe(batchId);
    const state = await fixture.waitFinished(service, batchId);
    expect(state).toMatchObject({ source: 'url', total: 700, completed: 700, inputUrl, outputUrl, resultsRef: outputUrl });

    const written = (await readFile(join(data, 'out', 'results.jsonl'), 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(written.map((line) => line.id)).toEqual(lines.map((_, n) => `line-${n}`));
    expect(written[650].results[0].relevance_score).toBe(scoreOf('q650', 1));
    expect(await fixture.results(service, batchId)).toEqual(written);
  });

  it('should refuse URLs outside the allowed prefixes, inputs that do not exist and bad URLs, naming the field', async () => {
    fixture = await batchFixture();
    const allowed = join(fixture.storeDir, 'allowed');
    await mkdir(allowed, { recursive: true });
    const service = fixture.service({ urlPrefixes: [pathToFileURL(allowed).href] });
    const context = { tenant: 'default' };
    await expect(service.createByReference(context, { inputUrl: 'file:///etc/passwd' })).rejects.toMatchObject({ code: 'forbidden', field: 'input_url' });
    await expect(service.createByReference(context, { inputUrl: `${pathToFileURL(allowed).href}/../../../etc/passwd` })).rejects.toMatchObject({ code: 'forbidden', field: 'input_url' });
    await expect(service.createByReference(context, { inputUrl: pathToFileURL(join(allowed, 'missing.jsonl')).href })).rejects.toMatchObject({
      code: 'invalid_request',
      field: 'input_url',
      message: expect.stringContaining('does not exist'),
    });
    await expect(service.createByReference(context, { inputUrl: 'http://example.com/in.jsonl' })).rejects.toMatchObject({ field: 'input_url' });
    const inputUrl = await writeInput(allowed, 'in.jsonl', [requestLine(0)]);
    await expect(service.createByReference(context, { inputUrl, outputUrl: 'file:///tmp/elsewhere.jsonl' })).rejects.toMatchObject({ code: 'forbidden', field: 'output_url' });
    expect(await fixture.redis.keys(`${fixture.prefix}:batch*`)).toEqual([]);
  });
});
