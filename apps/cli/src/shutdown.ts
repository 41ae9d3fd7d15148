import { startExitWatchdog } from './exit-watchdog.js';

export interface ShutdownOptions {
  /**
   * The process exits at most this long after the first signal, stopped or not. The libraries
   * bound every step themselves; this is the last guard, so a pod never outlives its grace
   * period because one wait was missed.
   */
  boundMs: number;
}

/** Once stopped, a process still alive after this (a lingering socket or timer) exits anyway. */
const LINGER_MS = 1000;
/** How long after the bound the watchdog thread kills a process whose main thread missed it. */
const WATCHDOG_GRACE_MS = 500;

/**
 * Runs `stop` once on SIGINT or SIGTERM; a second signal exits at once, for the operator
 * who does not want to wait for the drain.
 */
export function onShutdown(stop: () => Promise<void>, { boundMs }: ShutdownOptions): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const exitLater = (ms: number, why: string, code: () => number) => {
      // Unref'd: it never keeps the process alive, it only ends one that would not end.
      setTimeout(() => {
        process.stderr.write(`rerank-pool: ${why}; exiting\n`);
        process.exit(code());
      }, ms).unref();
    };
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`rerank-pool: ${signal} again, exiting without draining\n`);
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`rerank-pool: ${signal}, draining (send it again to exit now)\n`);
      exitLater(boundMs, `not stopped within ${boundMs} ms; work not handed back is returned by the stalled-job check`, () => 1);
      // The last resort, should the main thread never get to the timer above.
      startExitWatchdog(boundMs + WATCHDOG_GRACE_MS, `not stopped within ${boundMs + WATCHDOG_GRACE_MS} ms and the main thread does not answer`);
      const finish = () => {
        exitLater(LINGER_MS, 'stopped, but open handles remain', () => Number(process.exitCode ?? 0));
        resolve();
      };
      stop().then(finish, (error: Error) => {
        process.stderr.write(`rerank-pool: shutdown failed: ${error.message}\n`);
        finish();
      });
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
