import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pullModel } from '../src/index.js';
import { FakeHub } from './fake-hub.js';
import { failureOf, fakeRepo, tempDir } from './fixtures.js';

describe('when the Hub answers with an error', () => {
  let hub: FakeHub;
  let cache: Awaited<ReturnType<typeof tempDir>>;

  beforeEach(async () => {
    hub = await FakeHub.start([fakeRepo('org/model')]);
    cache = await tempDir();
  });
  afterEach(async () => {
    await hub.close();
    await cache.remove();
  });

  const options = () => ({ endpoint: hub.url, cacheDir: cache.path, offline: false });

  it('should report HUB_NOT_FOUND naming an unknown repository', async () => {
    const error = await failureOf(pullModel('org/missing', options()));

    expect(error.code).toBe('HUB_NOT_FOUND');
    expect(error.message).toContain('"org/missing" at revision "main"');
  });

  it('should report HUB_NOT_FOUND naming an unknown revision', async () => {
    const error = await failureOf(pullModel('org/model', { ...options(), revision: 'v9' }));

    expect(error.code).toBe('HUB_NOT_FOUND');
    expect(error.message).toContain('revision "v9"');
  });

  it('should point at HF_TOKEN when a gated repository refuses access', async () => {
    hub.requiredToken = 'hf_secret';

    const error = await failureOf(pullModel('org/model', options()));

    expect(error.code).toBe('HUB_UNAUTHORIZED');
    expect(error.message).toContain('HF_TOKEN');
    expect(error.message).toContain('401');
  });

  it('should send the token on every request, from the option or from HF_TOKEN', async () => {
    hub.requiredToken = 'hf_secret';
    const saved = process.env.HF_TOKEN;
    process.env.HF_TOKEN = 'hf_secret';
    try {
      await pullModel('org/model', options());
    } finally {
      if (saved === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = saved;
    }
    await pullModel('org/model', { ...options(), cacheDir: `${cache.path}/second`, token: 'hf_secret' });

    expect(hub.requests.every((r) => r.authorization === 'Bearer hf_secret')).toBe(true);
  });
});
