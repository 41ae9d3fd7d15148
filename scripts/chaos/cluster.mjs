// The service under test, as real processes: redis-server with AOF, `rerank-pool api` and
// `rerank-pool worker`s, each started with `process.execPath bin/rerank-pool.js`, each
// restartable in place (same port, same Redis directory).
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { httpRequest } from './http-client.mjs';
import { freePort, redisCommand, waitUntil } from './processes.mjs';
import { log } from './util.mjs';

const START_TIMEOUT_MS = 60_000;

/**
 * Variables of the service that a run sets itself, or removes so that the caller's shell
 * cannot change what is tested (API_KEYS would make every request 401). Everything else, such
 * as WORKER_LOCK_MS or REQUEST_TIMEOUT_MS, passes through from the caller's environment.
 */
const REMOVED = ['API_KEYS', 'BATCH_URL_PREFIXES', 'OTEL_TRACES_EXPORTER', 'RERANK_MODEL_ALIASES', 'SCORE_CACHE_URL'];

export class Cluster {
  /**
   * @param {object} o
   * @param {import('./processes.mjs').ProcessSet} o.procs
   * @param {string} o.root repository root
   * @param {string} o.workDir the run's temp dir
   * @param {string} o.modelDir
   * @param {string} o.webhookSecret
   * @param {number} o.workers
   */
  constructor({ procs, root, workDir, modelDir, webhookSecret, workers }) {
    this.procs = procs;
    this.cli = join(root, 'bin', 'rerank-pool.js');
    this.root = root;
    this.modelDir = modelDir;
    this.webhookSecret = webhookSecret;
    this.redisDir = join(workDir, 'redis');
    this.storeDir = join(workDir, 'batch-store');
    this.workers = new Array(workers).fill(undefined);
    /** Every worker process started, restarts included (to name the pids in job owners). */
    this.workerHistory = [];
    this.queuePrefix = 'rerank-pool';
  }

  async init() {
    mkdirSync(this.redisDir, { recursive: true });
    mkdirSync(this.storeDir, { recursive: true });
    this.redisPort = await freePort();
    this.apiPort = await freePort();
  }

  get redisUrl() {
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  get config() {
    return {
      redis_port: this.redisPort,
      api_port: this.apiPort,
      workers: this.workers.length,
      redis: '--appendonly yes --appendfsync everysec --save ""',
    };
  }

  serviceEnv() {
    const env = {
      REDIS_URL: this.redisUrl,
      RERANK_MODELS: this.modelDir,
      WEBHOOK_SECRET: this.webhookSecret,
      // Deliveries go to the run's own receiver on 127.0.0.1 (for a service that checks hosts).
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      BATCH_STORE_URL: pathToFileURL(this.storeDir).href,
      QUEUE_PREFIX: this.queuePrefix,
      HOST: '127.0.0.1',
    };
    for (const key of REMOVED) env[key] = undefined;
    return env;
  }

  async startAll() {
    await this.init();
    await this.startRedis();
    await Promise.all(this.workers.map((_, slot) => this.startWorker(slot)));
    await this.startApi();
  }

  async startRedis() {
    const args = ['--port', String(this.redisPort), '--bind', '127.0.0.1', '--dir', this.redisDir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''];
    const started = Date.now();
    this.redis = this.procs.spawn('redis', 'redis-server', args);
    // PONG only once the AOF is replayed (before that: -LOADING).
    await waitUntil(async () => (await redisCommand(this.redisPort, 'PING')) === '+PONG', { proc: this.redis, timeoutMs: 30_000, intervalMs: 50, what: 'redis start' });
    log(`redis up on 127.0.0.1:${this.redisPort} (pid ${this.redis.pid}) in ${((Date.now() - started) / 1000).toFixed(2)} s`);
    return this.redis;
  }

  async startWorker(slot) {
    const name = `worker${slot + 1}`;
    const started = Date.now();
    const proc = this.procs.spawn(name, process.execPath, [this.cli, 'worker'], {
      cwd: this.root,
      env: { ...this.serviceEnv(), METRICS_PORT: '0', POOL_THREADS: process.env.POOL_THREADS ?? '1', LOG_LEVEL: 'info' },
    });
    this.workers[slot] = proc;
    this.workerHistory.push(proc);
    await waitUntil(() => proc.output.includes('"serving model"'), { proc, timeoutMs: START_TIMEOUT_MS, intervalMs: 50, what: `${name} start` });
    log(`${name} up (pid ${proc.pid}) in ${((Date.now() - started) / 1000).toFixed(2)} s`);
    return proc;
  }

  async startApi() {
    const started = Date.now();
    this.api = this.procs.spawn('api', process.execPath, [this.cli, 'api'], {
      cwd: this.root,
      env: { ...this.serviceEnv(), PORT: String(this.apiPort), LOG_LEVEL: 'warn' },
    });
    const healthy = async () => (await httpRequest({ port: this.apiPort, path: '/healthz', timeoutMs: 1000 })).status === 200;
    await waitUntil(healthy, { proc: this.api, timeoutMs: START_TIMEOUT_MS, intervalMs: 50, what: 'api start' });
    log(`api up on 127.0.0.1:${this.apiPort} (pid ${this.api.pid}) in ${((Date.now() - started) / 1000).toFixed(2)} s`);
    return this.api;
  }

  /**
   * The BullMQ worker name of a worker process: `defaultWorkerId()` is host-pid-random, so its
   * jobs' `pb` (processedBy) field starts with this.
   */
  workerIdPrefix(proc) {
    return `${hostname()}-${proc.pid}-`;
  }
}
