import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeModel } from '@rerank-pool/model-synth';

const CLI = fileURLToPath(new URL('../../../bin/rerank-pool.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('when a user runs `rerank-pool dev` with no Redis answering', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-dev-'));
    await synthesizeModel({ preset: 'tiny', outDir: join(root, 'tiny-model'), seed: 3 });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('should start its own redis-server, serve requests, print a curl example and stop cleanly', async () => {
    const [apiPort, deadRedisPort] = await Promise.all([freePort(), freePort()]);
    const child = spawn(process.execPath, [CLI, 'dev', '--port', String(apiPort), '--model', join(root, 'tiny-model')], {
      env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${deadRedisPort}`, QUEUE_PREFIX: 'rp-test-dev', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      for (let i = 0; i < 600 && !stdout.includes('is ready at'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(stdout, stderr).toContain(`rerank-pool is ready at http://localhost:${apiPort} serving tiny-model`);
      expect(stdout).toContain(`curl -s http://localhost:${apiPort}/v1/rerank`);
      const started = /started redis-server at (redis:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      expect(started, stderr).not.toBeNull();

      const response = await fetch(`http://localhost:${apiPort}/v1/rerank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'what is a reranker', documents: ['a model that orders passages', 'bananas'] }),
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { results: unknown[] }).results).toHaveLength(2);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      // The private Redis went away with it.
      const port = Number(started![1]!.split(':').pop());
      const stillThere = await new Promise<boolean>((resolve) => {
        const socket = createServer();
        socket.once('error', () => resolve(true));
        socket.listen(port, '127.0.0.1', () => socket.close(() => resolve(false)));
      });
      expect(stillThere).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
