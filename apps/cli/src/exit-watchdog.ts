import { Worker } from 'node:worker_threads';

/**
 * Ends this process `ms` from now even if its main thread never runs again: a thread of its own
 * sleeps (Atomics.wait, no event loop) and then writes `why` to stderr and kills the process with
 * SIGKILL. A timer on the main thread cannot do this when that thread is blocked or kept busy by
 * an endless run of promise callbacks, which starve timers; such a worker outlived its bound by
 * as long as it was let run (20 jobs of 400 documents, handed back too slowly, the BullMQ
 * connections then cut). The thread is unref'd: it never keeps a process alive that ends by itself.
 */
export function startExitWatchdog(ms: number, why: string): Worker {
  const watchdog = new Worker(
    // getBuiltinModule: the same in a CommonJS or an ES module evaluation of this text.
    `const { workerData } = process.getBuiltinModule('node:worker_threads');
     const { writeSync } = process.getBuiltinModule('node:fs');
     Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.ms);
     writeSync(2, 'rerank-pool: ' + workerData.why + '; killing the process\\n');
     process.kill(workerData.pid, 'SIGKILL');`,
    { eval: true, execArgv: [], workerData: { ms, why, pid: process.pid } },
  );
  watchdog.unref();
  return watchdog;
}
