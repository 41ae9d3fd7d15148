// The processes and temporary directories a chaos run owns: it starts them, signals only the
// pids it started, and removes them on every way out (normal end, error, Ctrl-C, SIGTERM).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log, sleep } from './util.mjs';

const TAIL_BYTES = 64 * 1024;

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** One child process: its pid, exit, and the tail of its output (for reports). */
export class OwnedProcess {
  constructor(name, child, onOutput) {
    this.name = name;
    this.child = child;
    this.pid = child.pid;
    this.startedAt = Date.now();
    this.exit = undefined;
    this.output = '';
    const append = (chunk) => {
      this.output += chunk;
      if (this.output.length > TAIL_BYTES * 2) this.output = this.output.slice(-TAIL_BYTES);
      onOutput?.(chunk);
    };
    child.stdout?.setEncoding('utf8').on('data', append);
    child.stderr?.setEncoding('utf8').on('data', append);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        resolve(this.exit);
      });
      child.once('error', (error) => {
        this.exit ??= { code: null, signal: null, error: error.message, at: Date.now() };
        resolve(this.exit);
      });
    });
  }

  get running() {
    return this.exit === undefined;
  }

  tail(chars = 2000) {
    return this.output.slice(-chars);
  }

  signal(signal) {
    if (!this.running) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves with the exit, or with undefined after `timeoutMs`. */
  async waitExit(timeoutMs) {
    let timer;
    const timeout = new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL (a crash) and wait for the exit. */
  async kill9() {
    this.signal('SIGKILL');
    return this.waitExit(10_000);
  }

  /**
   * SIGTERM and wait up to `timeoutMs` for the exit; past that, SIGKILL.
   * Resolves with `{exit_s, forced}`.
   */
  async terminate(timeoutMs) {
    const sent = Date.now();
    this.signal('SIGTERM');
    const exit = await this.waitExit(timeoutMs);
    if (exit) return { exit_s: (exit.at - sent) / 1000, forced: false, code: exit.code, signal: exit.signal };
    this.signal('SIGKILL');
    await this.waitExit(10_000);
    return { exit_s: null, forced: true, waited_s: timeoutMs / 1000 };
  }
}

/** Owns every process and temporary directory of a run. */
export class ProcessSet {
  /** @param {{logDir?: string}} o with logDir, each process's output also goes to <logDir>/<name>-<pid>.log (kept) */
  constructor({ logDir } = {}) {
    this.logDir = logDir;
    if (logDir) mkdirSync(logDir, { recursive: true });
    this.processes = new Set();
    this.tempDirs = new Set();
    this.cleaned = false;
  }

  tempDir(prefix) {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.tempDirs.add(dir);
    return dir;
  }

  /** `env` is laid over this process's environment; a key set to undefined is removed. */
  spawn(name, command, args, { env = {}, cwd, onOutput } = {}) {
    const merged = { ...process.env, ...env };
    for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
    const child = spawn(command, args, { cwd, env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
    let file;
    if (this.logDir && child.pid !== undefined) {
      file = createWriteStream(join(this.logDir, `${name}-${child.pid}.log`));
      file.on('error', () => undefined);
      child.once('exit', () => file.end());
    }
    const proc = new OwnedProcess(name, child, (chunk) => {
      file?.write(chunk);
      onOutput?.(chunk);
    });
    this.processes.add(proc);
    proc.exited.then(() => this.processes.delete(proc));
    return proc;
  }

  /** SIGKILLs every process still running that this set started, and removes its temp dirs. */
  async cleanup() {
    if (this.cleaned) return;
    this.cleaned = true;
    const alive = [...this.processes].filter((p) => p.running);
    for (const proc of alive) proc.signal('SIGKILL');
    await Promise.all(alive.map((p) => p.waitExit(5000)));
    this.removeTempDirs();
  }

  /** The synchronous last resort, for process 'exit': nothing can be awaited there. */
  cleanupSync() {
    for (const proc of this.processes) if (proc.running) proc.signal('SIGKILL');
    this.removeTempDirs();
  }

  removeTempDirs() {
    for (const dir of this.tempDirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // A file still held open by a dying process; the next attempt gets it.
      }
    }
    this.tempDirs.clear();
  }

  /**
   * Ctrl-C, SIGTERM, an uncaught error, or plain exit: every path cleans up. A second Ctrl-C
   * exits at once (after the synchronous cleanup).
   */
  installExitHandlers() {
    let interrupted = false;
    const onSignal = (signal) => {
      if (interrupted) {
        this.cleanupSync();
        process.exit(130);
      }
      interrupted = true;
      log(`${signal}: stopping every process this run started and removing its temp dirs`);
      this.cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    process.on('exit', () => this.cleanupSync());
    const fatal = (error) => {
      log(`fatal: ${error?.stack ?? error}`);
      this.cleanup().finally(() => process.exit(2));
    };
    process.on('uncaughtException', fatal);
    process.on('unhandledRejection', fatal);
  }
}

/** Sends one inline command to a Redis and reads one reply line; undefined when nothing answers. */
export function redisCommand(port, command, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (value) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('error', () => done(undefined));
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.includes('\r\n')) done(reply.split('\r\n')[0]);
    });
  });
}

/** Polls `check` every `intervalMs` until it returns true, the process exits, or `timeoutMs` passes. */
export async function waitUntil(check, { proc, timeoutMs, intervalMs = 100, what }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (proc && !proc.running) throw new Error(`${what}: ${proc.name} exited (${JSON.stringify(proc.exit)})\n${proc.tail()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s\n${proc?.tail() ?? ''}`);
    await sleep(intervalMs);
  }
}
