import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkObjectUrl } from '../src/index.js';
import { failureOf } from './support/stores.js';

describe('when checking a client-given file URL', () => {
  let base: string;
  let url: (path: string) => string;
  beforeEach(async () => {
    // realpath: the temp dir itself may sit behind a symlink (macOS /var -> /private/var).
    base = await realpath(await mkdtemp(join(tmpdir(), 'rerank-pool-check-')));
    url = (path) => pathToFileURL(join(base, path)).href;
    await mkdir(join(base, 'data/inputs'), { recursive: true });
    await mkdir(join(base, 'database'), { recursive: true });
    await mkdir(join(base, 'secrets'), { recursive: true });
    await writeFile(join(base, 'secrets/key.pem'), 'secret');
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('should allow a file under an allowed directory, with or without a trailing slash on the prefix', async () => {
    expect(await checkObjectUrl(url('data/inputs/x.jsonl'), [url('data')])).toBe(url('data/inputs/x.jsonl'));
    expect(await checkObjectUrl(url('data/x.jsonl'), [`${url('data')}/`])).toBe(url('data/x.jsonl'));
  });

  it('should allow a file that does not exist yet (an output)', async () => {
    expect(await checkObjectUrl(url('data/new/dir/out.jsonl'), [url('data')])).toBe(url('data/new/dir/out.jsonl'));
  });

  it('should match prefixes on segment boundaries only', async () => {
    const error = await failureOf(checkObjectUrl(url('database/x.jsonl'), [url('data')]));

    expect(error.code).toBe('forbidden_url');
    expect(error.message).toContain('BATCH_URL_PREFIXES');
  });

  it('should resolve "..", "." and percent-encoded traversal before matching', async () => {
    const prefixes = [url('data')];
    for (const traversal of [
      `${url('data')}/../secrets/key.pem`,
      `${url('data')}/%2e%2e/secrets/key.pem`,
      `${url('data')}/.%2E/secrets/key.pem`,
      `${url('data')}/./inputs/../../secrets/key.pem`,
    ]) {
      const error = await failureOf(checkObjectUrl(traversal, prefixes));
      expect(error.code).toBe('forbidden_url');
      expect(error.message).toContain(url('secrets/key.pem'));
    }
    expect(await checkObjectUrl(`${url('data')}/inputs/../x.jsonl`, prefixes)).toBe(url('data/x.jsonl'));
  });

  it('should not let a symlink inside an allowed directory point outside it', async () => {
    await symlink(join(base, 'secrets'), join(base, 'data/escape'));
    await symlink(join(base, 'secrets/key.pem'), join(base, 'data/key.pem'));

    for (const target of ['data/escape/key.pem', 'data/escape/new-file.jsonl', 'data/key.pem']) {
      expect((await failureOf(checkObjectUrl(url(target), [url('data')]))).code).toBe('forbidden_url');
    }
  });

  it('should refuse a dangling symlink, whose target could be created later', async () => {
    await symlink(join(base, 'secrets/not-yet.pem'), join(base, 'data/dangling.jsonl'));

    expect((await failureOf(checkObjectUrl(url('data/dangling.jsonl'), [url('data')]))).code).toBe('forbidden_url');
  });

  it('should accept an allowed directory that is itself reached through a symlink', async () => {
    await symlink(join(base, 'data'), join(base, 'data-link'));

    expect(await checkObjectUrl(url('data/inputs/x.jsonl'), [url('data-link')])).toBe(url('data/inputs/x.jsonl'));
    expect(await checkObjectUrl(url('data-link/inputs/x.jsonl'), [url('data')])).toBe(url('data-link/inputs/x.jsonl'));
  });

  it('should allow everything under a root prefix', async () => {
    expect(await checkObjectUrl(url('secrets/key.pem'), ['file:///'])).toBe(url('secrets/key.pem'));
  });

  it('should refuse everything when no prefix is configured', async () => {
    expect((await failureOf(checkObjectUrl(url('data/x.jsonl'), []))).code).toBe('forbidden_url');
  });

  it('should report invalid_url for malformed URLs and prefixes', async () => {
    expect((await failureOf(checkObjectUrl('file:data/x.jsonl', [url('data')]))).code).toBe('invalid_url');
    expect((await failureOf(checkObjectUrl(`${url('data')}/`, [url('data')]))).code).toBe('invalid_url');
    const error = await failureOf(checkObjectUrl(url('data/x.jsonl'), ['data/']));
    expect(error.code).toBe('invalid_url');
    expect(error.message).toContain('BATCH_URL_PREFIXES');
  });
});

describe('when checking a client-given s3 URL', () => {
  it('should allow the whole bucket for a bucket-only prefix', async () => {
    expect(await checkObjectUrl('s3://batches/team-b/in.jsonl', ['s3://batches'])).toBe('s3://batches/team-b/in.jsonl');
  });

  it('should allow only keys under a key prefix, on segment boundaries', async () => {
    const prefixes = ['s3://batches/team-a/', 's3://shared/exports'];

    expect(await checkObjectUrl('s3://batches/team-a/in.jsonl', prefixes)).toBe('s3://batches/team-a/in.jsonl');
    expect(await checkObjectUrl('s3://shared/exports/2024/out.jsonl', prefixes)).toBe('s3://shared/exports/2024/out.jsonl');
    for (const forbidden of ['s3://batches/team-b/in.jsonl', 's3://batches/team-ab/in.jsonl', 's3://shared/exports-old/x', 's3://other/team-a/x']) {
      expect((await failureOf(checkObjectUrl(forbidden, prefixes))).code).toBe('forbidden_url');
    }
  });

  it('should allow exactly the object an entry names', async () => {
    expect(await checkObjectUrl('s3://batches/team-a/in.jsonl', ['s3://batches/team-a/in.jsonl'])).toBe('s3://batches/team-a/in.jsonl');
    expect((await failureOf(checkObjectUrl('s3://batches/team-a/in.jsonl.bak', ['s3://batches/team-a/in.jsonl']))).code).toBe(
      'forbidden_url',
    );
  });

  it('should not mix schemes', async () => {
    expect((await failureOf(checkObjectUrl('s3://data/x.jsonl', ['file:///data']))).code).toBe('forbidden_url');
    expect((await failureOf(checkObjectUrl('file:///data/x.jsonl', ['s3://data']))).code).toBe('forbidden_url');
  });

  it('should reject traversal segments in keys instead of resolving them', async () => {
    const error = await failureOf(checkObjectUrl('s3://batches/team-a/../team-b/x.jsonl', ['s3://batches/team-a/']));

    expect(error.code).toBe('invalid_url');
  });
});
