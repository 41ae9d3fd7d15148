import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubError, pullModel } from '../src/index.js';
import { FakeHub } from './fake-hub.js';
import { fakeRepo, tempDir } from './fixtures.js';

const ENV_KEYS = ['HF_ENDPOINT', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_HOME', 'HF_HUB_OFFLINE', 'HF_TOKEN'] as const;

describe('when options come from the environment', () => {
  let hub: FakeHub;
  let root: Awaited<ReturnType<typeof tempDir>>;
  const saved = new Map<string, string | undefined>();

  beforeEach(async () => {
    hub = await FakeHub.start([fakeRepo('org/model')]);
    root = await tempDir();
    for (const key of ENV_KEYS) {
      saved.set(key, process.env[key]);
      delete process.env[key];
    }
    process.env.HF_ENDPOINT = hub.url;
  });
  afterEach(async () => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await hub.close();
    await root.remove();
  });

  it('should use HF_ENDPOINT and HF_HUB_CACHE', async () => {
    process.env.HF_HUB_CACHE = join(root.path, 'hub-cache');

    const pulled = await pullModel('org/model');

    expect(pulled.dir.startsWith(join(root.path, 'hub-cache', 'models--org--model'))).toBe(true);
    expect(hub.requests.length).toBeGreaterThan(0);
  });

  it('should fall back to $HF_HOME/hub', async () => {
    process.env.HF_HOME = join(root.path, 'hf-home');

    const pulled = await pullModel('org/model');

    expect(pulled.dir.startsWith(join(root.path, 'hf-home', 'hub', 'models--org--model'))).toBe(true);
  });

  it('should reject invalid options naming the field', async () => {
    const cases: Array<[Parameters<typeof pullModel>[1], RegExp]> = [
      [{ endpoint: 'ftp://example.com' }, /^endpoint must be an http\(s\) URL/],
      [{ revision: '../../etc' }, /^revision must be a branch, tag or commit sha/],
      [{ retries: -1 }, /^retries must be an integer >= 0/],
    ];
    for (const [options, message] of cases) {
      const error = await pullModel('org/model', { cacheDir: root.path, ...options }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HubError);
      expect((error as HubError).code).toBe('HUB_BAD_OPTION');
      expect((error as HubError).message).toMatch(message);
    }
  });
});
