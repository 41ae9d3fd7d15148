import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
export { freePort } from '../../../../libs/batches/test/support/private-redis.js';

const CLI = fileURLToPath(new URL('../../../../bin/rerank-pool.js', import.meta.url));

/** A `rerank-pool` process the test started, to stop or kill by its pid. */
export interface ServiceProcess {
  child: ChildProcess;
  output(): string;
  /** SIGKILL, as a crash: nothing is flushed, no lease released. */
  kill(): Promise<void>;
  /** SIGTERM and wait (bounded) for the exit. */
  stop(): Promise<void>;
}

function start(command: 'api' | 'worker', env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [CLI, command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => output,
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (running()) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once `check` holds; a process that does not get there is killed, never left behind. */
async function waitFor(check: () => Promise<boolean> | boolean, what: string, proc: ServiceProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    const exited = proc.child.exitCode !== null || proc.child.signalCode !== null;
    if (exited || Date.now() > deadline) {
      await proc.kill();
      throw new Error(`${what}: ${exited ? 'the process exited' : `not within ${timeoutMs} ms`}\n${proc.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `rerank-pool worker`, resolved once it serves its models. */
export async function startWorkerProcess(env: Record<string, string>): Promise<ServiceProcess> {
  // Its start is read from its `serving model` log line (info).
  const proc = start('worker', { METRICS_PORT: '0', ...env, LOG_LEVEL: 'info' });
  await waitFor(() => proc.output().includes('"serving model"'), 'worker start', proc);
  return proc;
}

/** `rerank-pool api` on `port`, resolved once /healthz answers. */
export async function startApiProcess(env: Record<string, string>, port: number): Promise<ServiceProcess> {
  const proc = start('api', { PORT: String(port), HOST: '127.0.0.1', ...env });
  await waitFor(
    () =>
      fetch(`http://127.0.0.1:${port}/healthz`).then(
        (response) => response.ok,
        () => false,
      ),
    'api start',
    proc,
  );
  return proc;
}
