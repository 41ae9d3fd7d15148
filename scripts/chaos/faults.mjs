// The faults, in order, and the window each gets: inject, repair (restart what was stopped), and
// watch (bounded) for recovery: the first correct synchronous answer to a request sent after the
// fault (after the comeback, for Redis and the API), and for a stopped worker the moment every
// job it held has finished elsewhere.
import { log, seconds, sleep } from './util.mjs';

/**
 * @typedef {object} FaultContext
 * @property {import('./cluster.mjs').Cluster} cluster
 * @property {import('./timeline.mjs').Timeline} timeline
 * @property {import('./sync-load.mjs').SyncLoad} sync
 * @property {import('./redis-inspector.mjs').RedisInspector} inspector
 */

/**
 * Waits (at most `timeoutMs`) until the worker holds at least one active job, so that stopping
 * it tests the hand-over of real work; returns the jobs it holds (maybe none, at the timeout).
 */
async function untilHolding(inspector, workerPrefix, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const held = await inspector.activeJobsOf(workerPrefix).catch(() => []);
    if (held.length > 0 || Date.now() > deadline) return held;
    await sleep(20);
  }
}

export const FAULT_NAMES = ['worker_kill9', 'worker_sigterm', 'redis_kill9', 'api_kill9', 'redis_outage'];

/** The sequence of faults (in the order of FAULT_NAMES). Each `inject` returns quickly; `repair` restarts and sets `backAt`. */
export function faultPlan({ outageMs, sigtermTimeoutMs, redisDownMs, holdWaitMs = 10_000 }) {
  return [
    {
      name: 'worker_kill9',
      what: 'kill -9 of worker1, restarted at once',
      async inject({ cluster, inspector }) {
        const proc = cluster.workers[0];
        const prefix = cluster.workerIdPrefix(proc);
        await untilHolding(inspector, prefix, holdWaitMs);
        const at = Date.now();
        await proc.kill9();
        // Its jobs stay in the active lists under its name until the stalled-job check moves them.
        const held = await inspector.activeJobsOf(prefix).catch((error) => (log(`reading worker1's jobs: ${error.message}`), []));
        log(`worker1 (pid ${proc.pid}) killed with SIGKILL; it held ${held.length} active jobs`);
        return { at, held, detail: { pid: proc.pid } };
      },
      async repair({ cluster }, info) {
        const started = Date.now();
        await cluster.startWorker(0);
        info.detail.restart_s = seconds(Date.now() - started);
      },
    },
    {
      name: 'worker_sigterm',
      what: 'SIGTERM of worker2 (its exit timed), then restarted',
      async inject({ cluster, inspector }) {
        const proc = cluster.workers[1];
        const held = await untilHolding(inspector, cluster.workerIdPrefix(proc), holdWaitMs);
        const at = Date.now();
        proc.signal('SIGTERM');
        log(`worker2 (pid ${proc.pid}) sent SIGTERM holding ${held.length} active jobs`);
        return { at, held, proc, detail: { pid: proc.pid } };
      },
      async repair({ cluster }, info) {
        const exit = await info.proc.waitExit(sigtermTimeoutMs);
        if (exit) {
          info.detail.exit_s = seconds(exit.at - info.at);
          info.detail.exit = exit.signal ?? exit.code;
          log(`worker2 exited ${info.detail.exit_s} s after SIGTERM (${info.detail.exit})`);
        } else {
          info.detail.exit_s = null;
          info.detail.forced_after_s = sigtermTimeoutMs / 1000;
          log(`worker2 still running ${sigtermTimeoutMs / 1000} s after SIGTERM: SIGKILL`);
          await info.proc.kill9();
        }
        const started = Date.now();
        await cluster.startWorker(1);
        info.detail.restart_s = seconds(Date.now() - started);
      },
    },
    {
      name: 'redis_kill9',
      what: 'kill -9 of redis-server, restarted on the same port and dir (AOF replay)',
      async inject({ cluster }) {
        const at = Date.now();
        await cluster.redis.kill9();
        log(`redis (pid ${cluster.redis.pid}) killed with SIGKILL`);
        return { at, expectsComeback: true, detail: { pid: cluster.redis.pid } };
      },
      async repair({ cluster }, info) {
        await sleep(redisDownMs);
        await cluster.startRedis();
        info.backAt = Date.now();
      },
    },
    {
      name: 'api_kill9',
      what: 'kill -9 of the API, restarted on the same port',
      async inject({ cluster }) {
        const at = Date.now();
        await cluster.api.kill9();
        log(`api (pid ${cluster.api.pid}) killed with SIGKILL`);
        return { at, expectsComeback: true, detail: { pid: cluster.api.pid } };
      },
      async repair({ cluster }, info) {
        await cluster.startApi();
        info.backAt = Date.now();
      },
    },
    {
      name: 'redis_outage',
      what: `redis-server stopped (SIGTERM) for ${outageMs / 1000} s, then started again on the same port and dir`,
      async inject({ cluster }) {
        const at = Date.now();
        const stop = await cluster.redis.terminate(10_000);
        log(`redis (pid ${cluster.redis.pid}) stopped with SIGTERM in ${stop.exit_s ?? 'over 10'} s; down for ${outageMs / 1000} s`);
        return { at, expectsComeback: true, detail: { pid: cluster.redis.pid, stop_s: stop.exit_s, outage_s: outageMs / 1000 } };
      },
      async repair({ cluster }, info) {
        await sleep(Math.max(0, outageMs - (Date.now() - info.at)));
        await cluster.startRedis();
        info.backAt = Date.now();
      },
    },
  ];
}

/** Worker names (host-pid-random) as the run's names for them (worker1 pid 123). */
function labelWorkers(finishedBy, procsEverStarted) {
  const labelled = {};
  for (const [name, n] of Object.entries(finishedBy)) {
    const pid = Number(/-(\d+)-[a-z0-9]+$/.exec(name)?.[1]);
    const proc = procsEverStarted.find((p) => p.pid === pid);
    const label = proc ? `${proc.name} (pid ${pid})` : name;
    labelled[label] = (labelled[label] ?? 0) + n;
  }
  return labelled;
}

/**
 * Runs one fault in its window and returns what was measured. The window lasts until recovery
 * and then `quietMs` more, at least `minWindowMs` and at most `capMs` from the fault.
 */
export async function runFault(fault, ctx, { capMs, quietMs, minWindowMs, workerProcs }) {
  const { timeline, sync, inspector } = ctx;
  const windowStart = timeline.open(fault.name);
  log(`fault ${fault.name}: ${fault.what}`);
  const info = await fault.inject(ctx);
  let repairError;
  let repaired = false;
  const repairing = (fault.repair ? fault.repair(ctx, info) : Promise.resolve()).then(
    () => (repaired = true),
    (error) => {
      repairError = error;
      log(`fault ${fault.name}: repair failed: ${error.message.split('\n')[0]}`);
    },
  );
  const deadline = info.at + capMs;
  let syncOk;
  let heldDone;
  let held = { finished: 0, pending: info.held?.length ?? 0, finishedBy: {} };
  while (Date.now() < deadline) {
    const since = info.expectsComeback ? info.backAt : info.at;
    if (since !== undefined) syncOk ??= sync.firstSuccessAfter(since);
    if (info.held && heldDone === undefined) {
      try {
        held = await inspector.progress(info.held);
        if (held.pending === 0) heldDone = Date.now();
      } catch {
        // Redis not answering: ask again.
      }
    }
    if (repairError || (repaired && syncOk !== undefined && (!info.held || heldDone !== undefined))) break;
    await sleep(200);
  }
  // A repair still running at the cap (a start that hangs) is awaited: each start is bounded.
  await repairing;
  const recoveredAt = Math.max(syncOk ?? Infinity, heldDone ?? (info.held ? Infinity : 0));
  const recovered = Number.isFinite(recoveredAt) && !repairError;
  const end = Math.min(info.at + capMs, Math.max((recovered ? recoveredAt : Date.now()) + quietMs, windowStart + minWindowMs));
  if (end > Date.now()) await sleep(end - Date.now());

  const report = {
    name: fault.name,
    what: fault.what,
    at_s: timeline.rel(info.at),
    recovered,
    // Fault -> the first correct sync answer to a request sent after it (after the comeback for
    // Redis and the API) and, for a worker, every job it held finished.
    recovery_s: recovered ? seconds(recoveredAt - info.at) : null,
    first_sync_ok_s: syncOk !== undefined ? seconds(syncOk - info.at) : null,
    ...(info.expectsComeback && {
      back_s: info.backAt !== undefined ? seconds(info.backAt - info.at) : null,
      recovery_after_back_s: syncOk !== undefined && info.backAt !== undefined ? seconds(syncOk - info.backAt) : null,
    }),
    ...(info.held && {
      held_jobs: {
        count: info.held.length,
        all_finished_s: heldDone !== undefined ? seconds(heldDone - info.at) : null,
        pending_at_window_end: held.pending,
        finished_by: labelWorkers(held.finishedBy, workerProcs()),
      },
    }),
    ...info.detail,
    ...(repairError && { repair_error: repairError.message.split('\n')[0] }),
  };
  log(
    `fault ${fault.name}: ${recovered ? `recovered in ${report.recovery_s} s` : `NOT recovered within ${capMs / 1000} s`}` +
      (info.held
        ? report.held_jobs.all_finished_s !== null
          ? `; its ${info.held.length} held jobs finished ${report.held_jobs.all_finished_s} s after`
          : `; ${held.pending} of its ${info.held.length} held jobs still unfinished`
        : '') +
      (info.expectsComeback ? `; back after ${report.back_s} s` : ''),
  );
  if (repairError) throw Object.assign(new Error(`cannot continue after ${fault.name}: ${repairError.message}`), { report });
  return report;
}
