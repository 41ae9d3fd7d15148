import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface PrivateRedis {
  port: number;
  url: string;
  dir: string;
  child: ChildProcess;
  /** Kills the server (SIGKILL by default) and, unless `keepDir`, deletes its directory. */
  stop(options?: { signal?: NodeJS.Signals; keepDir?: boolean }): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** A redis-server of the test's own on a free port, so what it measures or kills touches nothing else. */
export async function startPrivateRedis(options: { port?: number; dir?: string; args?: string[] } = {}): Promise<PrivateRedis> {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'rp-private-redis-')));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...(options.args ?? [])], {
    stdio: 'ignore',
  });
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null });
  probe.on('error', () => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await probe.connect().catch(() => undefined);
      await probe.ping();
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  probe.disconnect();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    child,
    async stop({ signal = 'SIGKILL', keepDir = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill(signal);
        await exited;
      }
      if (!keepDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

async function usedMemory(port: number): Promise<number> {
  // Fails at once when the server is gone (a test that failed before stopping its watch).
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    return Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
  } finally {
    client.disconnect();
  }
}

/** Samples a Redis server's memory (INFO memory) from now on; `stop` gives the peak over the starting point. */
export async function watchMemory(port: number, intervalMs = 50): Promise<{ stop(): Promise<number> }> {
  const baseline = await usedMemory(port);
  let peak = 0;
  let sampling = true;
  // Ends at the first failed reading, which `stop` reports: never an unhandled rejection.
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, (await usedMemory(port)) - baseline);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })().then(
    () => undefined,
    (error: unknown) => error,
  );
  return {
    async stop() {
      sampling = false;
      const failure = await sampler;
      if (failure !== undefined) throw failure;
      return peak;
    },
  };
}
