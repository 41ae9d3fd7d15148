import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';

export interface LocalRedis {
  url: string;
  /** True when this process started the server (and will stop it). */
  started: boolean;
  stop(): Promise<void>;
}

/** Answers whether something speaks Redis at host:port (a PING within the timeout). */
function answersPing(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => socket.write('PING\r\n'));
    // A password-protected server answers -NOAUTH: it is there, and REDIS_URL must carry the password.
    socket.once('data', (data) => done(/^\+PONG|^-NOAUTH|^-ERR/.test(data.toString())));
  });
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A free port other than `avoid`: a port the caller is about to listen on is free too until it
 * does, and the kernel readily hands a just-released port out again.
 */
async function freePort(avoid: readonly number[]): Promise<number> {
  for (;;) {
    const port = await anyFreePort();
    if (!avoid.includes(port)) return port;
  }
}

function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Uses the Redis at `url` when one answers; otherwise, when `redis-server` is installed,
 * starts a private one (temporary directory, free port, no persistence) for this process, on a
 * port not in `avoidPorts` (the ports the caller will listen on).
 */
export async function ensureRedis(url: string, { avoidPorts = [] }: { avoidPorts?: readonly number[] } = {}): Promise<LocalRedis> {
  const { host = '127.0.0.1', port = 6379 } = redisOptionsFromUrl(url);
  if (await answersPing(host, port)) return { url, started: false, stop: async () => undefined };
  if (!hasRedisServer()) {
    throw new Error(`nothing answers at ${url} and redis-server is not installed; start Redis or set REDIS_URL`);
  }
  return startRedisServer({ avoidPorts });
}

/**
 * A redis-server of this process's own (temporary directory, free port, no persistence), with
 * `args` added to its command line (e.g. a maxmemory policy).
 */
export async function startRedisServer({ avoidPorts = [], args = [] }: { avoidPorts?: readonly number[]; args?: readonly string[] } = {}): Promise<LocalRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'rerank-pool-redis-'));
  const freshPort = await freePort(avoidPorts);
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(freshPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...args],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100 && !(await answersPing('127.0.0.1', freshPort, 200)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  if (!(await answersPing('127.0.0.1', freshPort))) {
    await stop();
    throw new Error(`started redis-server on port ${freshPort} but it does not answer`);
  }
  return { url: `redis://127.0.0.1:${freshPort}`, started: true, stop };
}
