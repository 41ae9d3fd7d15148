#!/usr/bin/env node
// `npm run chaos`: a fault-injection run anyone can repeat. Starts redis-server (AOF), the API
// and two workers as real processes on 127.0.0.1, drives sync, async-with-webhooks and batch
// load, injects kill -9 of a worker, SIGTERM of a worker, kill -9 of Redis, kill -9 of the API
// and a Redis outage, each with a bounded recovery window, then prints one JSON summary on
// stdout. Progress goes to stderr. Exit 1 when anything was lost or differed, 2 when the run
// itself failed, 3 when it overran --max-s.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AsyncLoad } from './async-load.mjs';
import { collectBatch, uploadBatch } from './batch-load.mjs';
import { Cluster } from './cluster.mjs';
import { FAULT_NAMES, faultPlan, runFault } from './faults.mjs';
import { ProcessSet } from './processes.mjs';
import { RedisInspector } from './redis-inspector.mjs';
import { buildSummary } from './summary.mjs';
import { SyncLoad } from './sync-load.mjs';
import { Timeline } from './timeline.mjs';
import { log, sleep } from './util.mjs';
import { newWebhookSecret, WebhookReceiver } from './webhook-receiver.mjs';
import { makeInputs, referenceScores } from './workload.mjs';

const BATCH_LEAD_MS = 3000;
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const NUMBERS = {
  'outage-s': [20, 8, 'length of the Redis outage'],
  'window-s': [40, 25, 'longest window per fault (recovery is watched this long at most)'],
  'quiet-s': [5, 2, 'quiet time kept after a recovery before the next fault'],
  'min-window-s': [25, 8, 'shortest window per fault'],
  'baseline-s': [15, 4, 'fault-free load before the first fault'],
  'batch-lines': [6000, 1500, 'lines of the offline batch (uploaded 3 s before the first fault)'],
  'sync-concurrency': [3, 2, 'concurrent POST /v1/rerank loops'],
  'sync-pause-ms': [50, 50, 'pause of each sync loop after an answer'],
  'async-rate': [4, 3, 'POST /v1/jobs per second'],
  inputs: [12, 8, 'distinct (query, documents) inputs'],
  'request-timeout-s': [40, 40, 'a request with no answer by then counts as status "timeout"'],
  'sigterm-timeout-s': [40, 40, 'SIGKILL a worker still running this long after SIGTERM'],
  'redis-down-s': [1, 1, 'pause between the kill -9 of Redis and its restart'],
  'drain-s': [120, 60, 'bound on polling jobs and the batch after the load stops'],
  'webhook-wait-s': [30, 20, 'bound on waiting for the last webhooks'],
  'max-s': [900, 600, 'the whole run is aborted (exit 3) past this'],
};

function usage() {
  const lines = Object.entries(NUMBERS).map(([name, [def, quick, doc]]) => `  --${name.padEnd(18)} ${doc} (default ${def}; --quick ${quick})`);
  return [
    'usage: node scripts/chaos/run.mjs [--quick] [--faults a,b,...] [--preset tiny] [--logs DIR] [--NAME N ...]',
    '  --quick              shorter windows, outage and batch (a run of about 2 minutes)',
    `  --faults LIST        a subset, run in the order given, of: ${FAULT_NAMES.join(',')}`,
    '  --preset P           synthetic model preset (tiny, tinybert-l2, minilm-l6; default tiny)',
    '  --logs DIR           keep every process\'s output in DIR (by default only tails are kept in memory)',
    '  --records FILE       write every sync request and async job as NDJSON to FILE (for a closer look)',
    ...lines,
    'Service settings such as WORKER_LOCK_MS or REQUEST_TIMEOUT_MS pass through from the environment.',
  ].join('\n');
}

function parseOptions(argv) {
  const spec = {
    quick: { type: 'boolean', default: false },
    faults: { type: 'string' },
    preset: { type: 'string', default: 'tiny' },
    logs: { type: 'string' },
    records: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  };
  for (const name of Object.keys(NUMBERS)) spec[name] = { type: 'string' };
  const { values } = parseArgs({ args: argv, options: spec, strict: true });
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    process.exit(0);
  }
  const options = { quick: values.quick, preset: values.preset, logs: values.logs && resolve(values.logs), records: values.records && resolve(values.records), faults: values.faults?.split(',').filter(Boolean) };
  for (const name of options.faults ?? []) if (!FAULT_NAMES.includes(name)) throw new Error(`unknown fault ${name}`);
  for (const [name, [def, quick]] of Object.entries(NUMBERS)) {
    const value = values[name] === undefined ? (values.quick ? quick : def) : Number(values[name]);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got ${values[name]}`);
    options[name] = value;
  }
  return options;
}

async function synthesizeModel(procs, preset, dir) {
  const proc = procs.spawn('model-synth', process.execPath, [join(ROOT, 'bin', 'rerank-pool.js'), 'model', 'synth', '--preset', preset, '--out', dir, '--seed', '17'], { cwd: ROOT });
  const exit = await proc.waitExit(120_000);
  if (!exit || exit.code !== 0) {
    proc.signal('SIGKILL');
    throw new Error(`model synth failed: ${proc.tail()}`);
  }
  log(`synthetic ${preset} model in ${dir}`);
}

function writeRecords(file, timeline, state) {
  const rows = [];
  for (const r of state.sync?.records ?? []) rows.push({ kind: 'sync', ...r, start_s: timeline.rel(r.start), end_s: timeline.rel(r.end) });
  for (const j of state.async?.jobs.values() ?? []) rows.push({ kind: 'job', id: j.id, n: j.n, window: j.window, submitted_s: timeline.rel(j.submittedAt), attempts: j.attempts, status: j.final?.status, differs: j.final?.differs });
  for (const j of state.async?.notAccepted ?? []) rows.push({ kind: 'job_not_accepted', ...j });
  writeFileSync(file, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  log(`records written to ${file}`);
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`chaos: ${error.message}\n${usage()}\n`);
    return 2;
  }
  const startedAt = Date.now();
  const procs = new ProcessSet({ logDir: options.logs });
  procs.installExitHandlers();
  const timeline = new Timeline();
  const state = { faults: [], aborted: undefined };
  const s = (name) => options[name] * 1000;

  const emit = (aborted) => {
    const config = {
      preset: options.preset,
      quick: options.quick,
      ...state.cluster?.config,
      inputs: options.inputs,
      sync_concurrency: options['sync-concurrency'],
      async_rate_per_s: options['async-rate'],
      batch_lines: options['batch-lines'],
      outage_s: options['outage-s'],
      window_s: options['window-s'],
      request_timeout_s: options['request-timeout-s'],
      passed_through: Object.fromEntries(['WORKER_LOCK_MS', 'REQUEST_TIMEOUT_MS', 'WORKER_CONCURRENCY', 'POOL_THREADS'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])),
    };
    const { summary, problems } = buildSummary({ config, timeline, faults: state.faults, syncLoad: state.sync, asyncLoad: state.async, receiver: state.receiver, batch: state.batch, startedAt, aborted });
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (options.records) writeRecords(options.records, timeline, state);
    return problems;
  };

  const watchdog = setTimeout(() => {
    log(`run overran --max-s ${options['max-s']}: aborting`);
    emit(`overran --max-s ${options['max-s']}`);
    procs.cleanup().finally(() => process.exit(3));
  }, s('max-s'));

  try {
    const workDir = procs.tempDir('rp-chaos-');
    const modelDir = join(workDir, `synthetic-${options.preset}`);
    await synthesizeModel(procs, options.preset, modelDir);
    const inputs = makeInputs(options.inputs);
    const reference = await referenceScores({ procs, root: ROOT, modelDir, inputs });

    const secret = newWebhookSecret(randomBytes);
    state.receiver = await new WebhookReceiver({ secret }).start();
    log(`webhook receiver on ${state.receiver.url}`);

    const cluster = new Cluster({ procs, root: ROOT, workDir, modelDir, webhookSecret: secret, workers: 2 });
    state.cluster = cluster;
    await cluster.startAll();
    const inspector = new RedisInspector({ port: cluster.redisPort, prefix: cluster.queuePrefix });

    const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    const requestTimeoutMs = s('request-timeout-s');
    state.sync = new SyncLoad({ port: cluster.apiPort, inputs, reference, timeline, concurrency: options['sync-concurrency'], pauseMs: options['sync-pause-ms'], timeoutMs: requestTimeoutMs });
    state.async = new AsyncLoad({
      port: cluster.apiPort, inputs, reference, timeline, ratePerS: options['async-rate'], callbackUrl: state.receiver.url, runId,
      // Long enough to outlast the Redis outage: a client that keeps its idempotency key retries.
      retryForMs: s('outage-s') + 15_000, timeoutMs: requestTimeoutMs,
    });

    timeline.open('baseline');
    log(`load: ${options['sync-concurrency']} sync loops, ${options['async-rate']} async jobs/s; baseline for ${options['baseline-s']} s`);
    state.sync.start();
    state.async.start();
    // The batch goes in a few seconds before the first fault, so that its lines are running then.
    const batchLead = Math.min(BATCH_LEAD_MS, s('baseline-s'));
    await sleep(s('baseline-s') - batchLead);
    let batchId;
    if (options['batch-lines'] > 0) {
      const upload = await uploadBatch({ port: cluster.apiPort, inputs, lines: options['batch-lines'], key: `chaos-${runId}-batch` });
      if (upload.error) state.batch = { lines: options['batch-lines'], exact: false, problem: upload.error };
      batchId = upload.id;
    }
    await sleep(batchLead);

    const plan = faultPlan({ outageMs: s('outage-s'), sigtermTimeoutMs: s('sigterm-timeout-s'), redisDownMs: s('redis-down-s') });
    const chosen = options.faults ? options.faults.map((name) => plan.find((f) => f.name === name)) : plan;
    const ctx = { cluster, timeline, sync: state.sync, inspector };
    for (const fault of chosen) {
      try {
        state.faults.push(await runFault(fault, ctx, { capMs: s('window-s'), quietMs: s('quiet-s'), minWindowMs: s('min-window-s'), workerProcs: () => cluster.workerHistory }));
      } catch (error) {
        if (error.report) state.faults.push(error.report);
        state.aborted = error.message.split('\n')[0];
        log(`stopping the fault sequence: ${state.aborted}`);
        break;
      }
    }

    timeline.open('drain');
    log('stopping the load; waiting for requests in flight');
    await Promise.all([state.sync.stop(), state.async.stop()]);
    log(`polling ${state.async.jobs.size} accepted jobs${batchId ? ' and the batch' : ''}`);
    const [unfinished, batch] = await Promise.all([
      state.async.pollAll({ deadlineMs: s('drain-s') }),
      batchId ? collectBatch({ port: cluster.apiPort, id: batchId, inputs, reference, lines: options['batch-lines'], deadlineMs: s('drain-s') }) : undefined,
    ]);
    if (batch) state.batch = batch;
    if (unfinished > 0) log(`${unfinished} jobs still not finished after ${options['drain-s']} s`);

    const expected = [...state.async.jobs.values()].filter((j) => j.final?.status === 'completed' || j.final?.status === 'failed');
    const webhookDeadline = Date.now() + s('webhook-wait-s');
    for (;;) {
      const byJob = state.receiver.byJob();
      const missing = expected.filter((j) => !byJob.has(j.id)).length;
      if (missing === 0 || Date.now() > webhookDeadline) {
        log(`webhooks: ${expected.length - missing} of ${expected.length} expected delivered`);
        break;
      }
      await sleep(500);
    }
    timeline.close();
    await inspector.close();
  } catch (error) {
    state.aborted = error.message.split('\n')[0];
    log(`run failed: ${error.stack ?? error.message}`);
  }

  await state.receiver?.stop();
  await procs.cleanup();
  clearTimeout(watchdog);
  const problems = emit(state.aborted);
  if (state.aborted && state.faults.length === 0 && !state.sync) return 2;
  if (problems.length > 0) {
    log(`problems: ${problems.join('; ')}`);
    return state.aborted ? 2 : 1;
  }
  log('nothing lost, nothing differed');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    log(`fatal: ${error.stack ?? error}`);
    process.exit(2);
  },
);
