import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deleteKeysWithPrefix } from '@rerank-pool/queue';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { Redis } from 'ioredis';
import { API_SERVER, exposureWarning, isLoopbackHost, WORKER_METRICS_SERVER } from '../src/exposure-warning.js';

const CLI = fileURLToPath(new URL('../../../bin/rerank-pool.js', import.meta.url));

/** Starts `rerank-pool api`, waits until it listens, stops it; returns what it wrote to stderr. */
async function apiStderr(env: Record<string, string>): Promise<string> {
  const prefix = `rp-test-exposure-${randomBytes(4).toString('hex')}`;
  const child = spawn(process.execPath, [CLI, 'api'], {
    env: { ...process.env, PORT: '0', QUEUE_PREFIX: prefix, RERANK_MODELS: 'test-org/tiny-reranker', LOG_LEVEL: 'info', API_KEYS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (let i = 0; i < 400 && !stdout.includes('Server listening'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stdout, stderr).toContain('Server listening');
    // The warning is written right after listen; give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill('SIGTERM');
    await exited;
    return stderr;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    const redis = new Redis(redisOptionsFromUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'));
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  }
}

describe('when a server listens on an address other machines reach, without API_KEYS', () => {
  it('should tell loopback addresses from the others', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', 'api.localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.com', '::ffff:10.0.0.1']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('should warn for the API and the worker metrics server, and not with keys or on loopback', () => {
    expect(exposureWarning(API_SERVER('api'), '0.0.0.0', 8080, { apiKeys: undefined })).toMatch(
      /^rerank-pool api: WARNING: the API .* listens on 0\.0\.0\.0:8080, reachable from other machines, and API_KEYS is not set\. Set API_KEYS=/,
    );
    expect(exposureWarning(WORKER_METRICS_SERVER, '::', 9464, { apiKeys: undefined })).toMatch(/^rerank-pool worker: WARNING: the metrics server .* listens on :::9464/);
    expect(exposureWarning(API_SERVER('dev'), '127.0.0.1', 8080, { apiKeys: undefined })).toBeUndefined();
    expect(exposureWarning(API_SERVER('api'), '0.0.0.0', 8080, { apiKeys: [{ tenant: 'a', key: 'k' }] })).toBeUndefined();
  });

  it('should print the warning on stderr when `rerank-pool api` starts on 0.0.0.0, and none on 127.0.0.1', async () => {
    expect(await apiStderr({ HOST: '0.0.0.0' })).toMatch(/rerank-pool api: WARNING: the API .* listens on 0\.0\.0\.0:\d+/);
    expect(await apiStderr({ HOST: '127.0.0.1' })).not.toContain('WARNING');
  }, 60_000);
});
