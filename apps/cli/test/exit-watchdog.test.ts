import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const WATCHDOG = fileURLToPath(new URL('../dist/exit-watchdog.js', import.meta.url));

/** Runs `body` in a fresh Node process with `startExitWatchdog` imported; resolves with how it ended. */
function run(body: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', `import { startExitWatchdog } from ${JSON.stringify(WATCHDOG)};\n${body}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // Should the watchdog fail, the looping child must not outlive the test.
    const cap = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (code, signal) => {
      clearTimeout(cap);
      resolve({ code, signal, stderr, ms: performance.now() - started });
    });
  });
}

describe('when a stopping process never gets back to its event loop', () => {
  it('should be killed by the watchdog thread, saying why', async () => {
    // A main thread that never yields: no timer of its own could end it.
    const ended = await run(`startExitWatchdog(300, 'test bound passed'); for (;;) {}`);
    expect(ended.signal).toBe('SIGKILL');
    expect(ended.stderr).toContain('rerank-pool: test bound passed; killing the process');
    expect(ended.ms).toBeLessThan(10_000);
  });
});

describe('when a process ends by itself before the bound', () => {
  it('should not be kept alive by the watchdog', async () => {
    const ended = await run(`startExitWatchdog(20_000, 'never'); setTimeout(() => {}, 50);`);
    expect(ended).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(ended.ms).toBeLessThan(10_000);
  });
});
