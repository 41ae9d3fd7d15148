import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { apiKeys, commaList, hostPortList, httpUrl, integer, modelAliases, modelVariant, nonEmptyString, oneOf, redisUrl, storeUrl, storeUrlList, webhookAllowedHosts, webhookSecret } from './parsers.js';
import type { Parser } from './parsers.js';
import { REDACTED, redactRedisUrl } from './secret-text.js';
import { WORKER_DRAIN_MS } from './worker-drain.js';

export interface EnvVarSpec<T, Required extends boolean = boolean> {
  /** The environment variable. */
  env: string;
  /** One line for the README and `--help`. */
  doc: string;
  /** Raw default (parsed like a user value); a function when it depends on the machine. */
  default: Required extends true ? string | (() => string) : undefined;
  /** For values that must never be printed: what the config's toJSON and inspect show instead. */
  redact?: (value: T) => unknown;
  parse: Parser<T>;
}

function withDefault<T>(spec: EnvVarSpec<T, true>): EnvVarSpec<T, true> {
  return spec;
}

function optional<T>(spec: Omit<EnvVarSpec<T, false>, 'default'>): EnvVarSpec<T, false> {
  return { ...spec, default: undefined };
}

/**
 * Every setting of rerank-pool, keyed by its field in `Config`. Manifests (k8s, compose) can be
 * checked against `Object.values(configSchema).map((spec) => spec.env)`.
 */
export const configSchema = {
  redisUrl: withDefault({
    env: 'REDIS_URL',
    doc: 'Redis for queues, results and heartbeats; redis:// or rediss:// (TLS), password allowed',
    default: 'redis://127.0.0.1:6379',
    parse: redisUrl,
    redact: redactRedisUrl,
  }),
  redisClusterNodes: optional({
    env: 'REDIS_CLUSTER_NODES',
    doc: 'Run on a Redis Cluster: comma list of host:port of some of its nodes (the rest are discovered). REDIS_URL then gives only the password and TLS (rediss://), and must name database 0. Default: not a cluster',
    parse: hostPortList(6379),
  }),
  redisSentinels: optional({
    env: 'REDIS_SENTINELS',
    doc: 'Reach Redis through Sentinel: comma list of host:port of the sentinels (port 26379 if left out); needs REDIS_SENTINEL_NAME. REDIS_URL then gives only the password, TLS and database; a failover is followed without a restart. Default: no Sentinel',
    parse: hostPortList(26379),
  }),
  redisSentinelName: optional({
    env: 'REDIS_SENTINEL_NAME',
    doc: 'The master name the sentinels of REDIS_SENTINELS monitor (`sentinel monitor <name> ...`)',
    parse: nonEmptyString,
  }),
  redisSentinelPassword: optional({
    env: 'REDIS_SENTINEL_PASSWORD',
    doc: "Password of the sentinels themselves, when they have one (REDIS_URL's password is the data nodes')",
    redact: () => REDACTED,
    parse: nonEmptyString,
  }),
  redisWaitReplicas: withDefault({
    env: 'REDIS_WAIT_REPLICAS',
    doc: 'Acknowledge a created job (202, batch accepted) only once this many replicas have it (Redis WAIT), so a failover right after cannot lose it; 0 turns it off. Not with REDIS_CLUSTER_NODES',
    default: '0',
    parse: integer(0, 16),
  }),
  redisWaitTimeoutMs: withDefault({
    env: 'REDIS_WAIT_TIMEOUT_MS',
    doc: 'How long a job creation waits for REDIS_WAIT_REPLICAS replicas before it is answered 503 (the job may still run: retry with the same idempotency_key)',
    default: '1000',
    parse: integer(1, 60_000),
  }),
  port: withDefault({ env: 'PORT', doc: 'HTTP port of the API', default: '8080', parse: integer(0, 65535) }),
  host: withDefault({ env: 'HOST', doc: 'Interface the API listens on', default: '0.0.0.0', parse: nonEmptyString }),
  rerankModels: withDefault({
    env: 'RERANK_MODELS',
    doc: 'Comma list of model directories or Hub ids; requests without `model` use the first',
    default: 'cross-encoder/ms-marco-MiniLM-L-6-v2',
    parse: commaList,
  }),
  rerankModelAliases: optional({
    env: 'RERANK_MODEL_ALIASES',
    doc: 'alias=model,alias2=model2: other names a request may give as `model` (e.g. rerank-english-v2.0, the default of LlamaIndex\'s CohereRerank), each answered by a served model id; no alias may be a served id. Responses name the model that scored (meta.model). Default: none',
    // No default aliases: a client asking for rerank-multilingual-v3.0 and silently getting an
    // English MiniLM would be worse than a 404 that lists the served models.
    parse: modelAliases,
  }),
  modelVariant: optional({
    env: 'MODEL_VARIANT',
    doc: 'ONNX variant workers load for every served model: onnx/model_<variant>.onnx, e.g. quantized (int8, written by `rerank-pool model quantize` or pulled from the Hub). Default: the float32 model.onnx',
    parse: modelVariant,
  }),
  workerConcurrency: withDefault({
    env: 'WORKER_CONCURRENCY',
    doc: 'Jobs a worker process holds at once; their pairs are batched together',
    // The bench's pipeline numbers (README, Performance) were measured with 32: enough jobs
    // in flight that the batcher always has rows of similar length to merge.
    default: '32',
    parse: integer(1),
  }),
  workerLockMs: withDefault({
    env: 'WORKER_LOCK_MS',
    doc: "How long a worker's claim on a job lasts unrenewed (renewed every quarter of it): a killed worker's jobs are back in the queue within 4/3 of this",
    // 6 s brings a killed worker's jobs back within 8 s (README, Faults), inside a sync request's
    // 30 s; a live worker renews every 1.5 s, so only an event loop blocked for 4.5 s loses a lock.
    default: '6000',
    parse: integer(1000),
  }),
  workerDrainMs: withDefault({
    env: 'WORKER_DRAIN_MS',
    doc: 'On SIGTERM, how long active jobs may finish before they are handed back to the queue; the worker exits within this plus a few seconds',
    default: String(WORKER_DRAIN_MS),
    parse: integer(0),
  }),
  poolThreads: withDefault({
    env: 'POOL_THREADS',
    doc: 'Inference threads per worker process, each with its own onnxruntime session (default: one per core)',
    // Measured on 2 cores (README, Thread defaults): one single-threaded session per core beats
    // one session spanning the cores, and never oversubscribes them.
    default: () => String(availableParallelism()),
    parse: integer(1),
  }),
  batchPoolThreads: optional({
    env: 'BATCH_POOL_THREADS',
    doc: 'Inference threads per worker process for batch work (offline batch lines, batch-priority jobs), started when such work arrives and stopped 60 s after it ends, each with its own session (default: POOL_THREADS)',
    parse: integer(1),
  }),
  batchThreadNice: withDefault({
    env: 'BATCH_THREAD_NICE',
    doc: 'Nice value (0-19) of the batch threads: while interactive work runs, the kernel gives it the cores first (0 shares them evenly)',
    // Measured (README, Online requests during offline batches): at 10 an interactive thread gets
    // about nine tenths of a core it shares with a batch thread.
    default: '10',
    parse: integer(0, 19),
  }),
  ortIntraOpThreads: optional({
    env: 'ORT_INTRA_OP_THREADS',
    doc: 'onnxruntime intra-op threads per session (default: cores / POOL_THREADS, at least 1)',
    parse: integer(1),
  }),
  executionProvider: withDefault({
    env: 'EXECUTION_PROVIDER',
    doc: 'onnxruntime execution provider: cpu or cuda',
    default: 'cpu',
    parse: oneOf(['cpu', 'cuda']),
  }),
  maxBatchTokens: withDefault({
    env: 'MAX_BATCH_TOKENS',
    doc: 'Token budget of one inference batch (padded length x rows)',
    // Measured with `rerank-pool bench` on 2 cores: 2048-token batches beat 8192 on both
    // presets (tinybert-l2 730 vs 714 pairs/s, minilm-l6 52 vs 49) and halve idle latency.
    default: '2048',
    parse: integer(1),
  }),
  maxBatchWaitMs: withDefault({
    env: 'MAX_BATCH_WAIT_MS',
    doc: 'How long the batcher waits for more pairs before running a partial batch',
    default: '5',
    parse: integer(0),
  }),
  maxDocuments: withDefault({ env: 'MAX_DOCUMENTS', doc: 'Documents per request', default: '1000', parse: integer(1) }),
  maxDocumentChars: withDefault({
    env: 'MAX_DOCUMENT_CHARS',
    doc: 'Characters per document (and per query)',
    default: '20000',
    parse: integer(1),
  }),
  maxChunksPerDoc: withDefault({
    env: 'MAX_CHUNKS_PER_DOC',
    doc: 'Largest max_chunks_per_doc a request may ask for (a long document scored as its best of up to this many overlapping chunks; requests default to 1, truncation)',
    // Each chunk is one more pair: a request of long documents costs up to this many times the
    // pairs of truncation, so the cap bounds what one request can take from the batcher. 8
    // chunks at a 512-token window (384-token stride) cover ~3,200 tokens, ~14,000 characters of
    // English: most of a MAX_DOCUMENT_CHARS document.
    default: '8',
    parse: integer(1),
  }),
  maxQueueDepth: withDefault({
    env: 'MAX_QUEUE_DEPTH',
    doc: "Waiting jobs per model queue above which requests get 429 + Retry-After (each API replica reads the depth at most every 100 ms and counts its own jobs in between)",
    default: '10000',
    parse: integer(1),
  }),
  tenantMaxQueuedJobs: withDefault({
    env: 'TENANT_MAX_QUEUED_JOBS',
    doc: "Jobs of one tenant not yet started (waiting, prioritized, delayed; all models together) above which that tenant gets 429 + Retry-After; others are unaffected. Offline batch lines are not counted (BATCH_WINDOW_LINES bounds them). 0 turns the cap off",
    // A tenth of MAX_QUEUE_DEPTH's default: ten tenants at their caps still fit one model's queue,
    // so a tenant that floods (10,000 jobs in 1.6 s, issue 10) cannot fill it for the others.
    // 1000 unstarted jobs is minutes of work at the pipeline's measured pairs/s; more is a batch.
    default: '1000',
    parse: integer(0),
  }),
  tenantRateLimit: withDefault({
    env: 'TENANT_RATE_LIMIT',
    doc: 'Requests one tenant may make per TENANT_RATE_LIMIT_WINDOW_MS, counted in Redis across every API replica (health, readiness, metrics exempt); over it 429 + Retry-After. 0 (default) turns it off',
    // Off by default: capacity is already shared out by TENANT_MAX_QUEUED_JOBS and MAX_QUEUE_DEPTH;
    // a request rate is a term of each tenant's contract, and a guessed one would throttle the
    // single `default` tenant of a deployment without API_KEYS (and the bench).
    default: '0',
    parse: integer(0),
  }),
  tenantRateLimitWindowMs: withDefault({
    env: 'TENANT_RATE_LIMIT_WINDOW_MS',
    doc: 'The window TENANT_RATE_LIMIT counts requests in (a fixed window per tenant)',
    default: '1000',
    parse: integer(100),
  }),
  maxBodyBytes: withDefault({
    env: 'MAX_BODY_BYTES',
    doc: 'Largest accepted request body; larger gets 413',
    // 1000 documents x 20000 ASCII characters plus JSON overhead fits; the limits above then
    // reject per-field with a precise message instead of a blunt 413.
    default: String(25 * 1024 * 1024),
    parse: integer(1),
  }),
  maxJsonDepth: withDefault({
    env: 'MAX_JSON_DEPTH',
    doc: 'Deepest nesting of arrays and objects in a JSON body or batch line; deeper is a 400 found before the body is parsed',
    // The deepest documented body is 3 levels (a request with object documents; a batch line too),
    // TEI bodies 2; 16 leaves room for metadata nested in object documents (issue 11). Depth costs
    // nothing below the limit; above it, every level is refused after reading a few bytes.
    default: '16',
    parse: integer(1, 1000),
  }),
  requestTimeoutMs: withDefault({
    env: 'REQUEST_TIMEOUT_MS',
    doc: 'Default wait of a synchronous rerank before 504 (overridable per request by timeout_ms)',
    default: '30000',
    parse: integer(1),
  }),
  httpIdleTimeoutMs: withDefault({
    env: 'HTTP_IDLE_TIMEOUT_MS',
    doc: 'A request body from which no byte arrives for this long while the API reads it is cut with 408 client_timeout; an upload may stream for hours as long as bytes keep coming',
    default: '30000',
    parse: integer(100),
  }),
  httpMaxConnections: withDefault({
    env: 'HTTP_MAX_CONNECTIONS',
    doc: 'Open HTTP connections one API process accepts; connections beyond it are closed at once (0: no limit)',
    // Measured: a connection stalled mid-body costs the API about 13 KiB of RSS (10 KiB heap), an
    // idle keep-alive one 4 KiB, so 2048 cost under 30 MiB. The bound that matters is file
    // descriptors: 2048 leaves as many again for Redis and the batch store under the tightest
    // common hard limit (4096), so a flood of slow clients cannot make Redis reconnects fail
    // with EMFILE. Legitimate load needs far fewer (the bench runs 32 in flight; a balancer's pool, hundreds).
    default: '2048',
    parse: integer(0),
  }),
  queuePrefix: withDefault({
    env: 'QUEUE_PREFIX',
    doc: 'Redis key prefix of all queues (BullMQ prefix)',
    default: 'rerank-pool',
    parse: nonEmptyString,
  }),
  apiKeys: optional({
    env: 'API_KEYS',
    doc: 'tenant:key,tenant2:key2; when set requests need Authorization: Bearer <key>, else all are tenant "default"',
    redact: (keys) => keys.map(({ tenant }) => ({ tenant, key: REDACTED })),
    parse: apiKeys,
  }),
  adminDashboard: optional({
    env: 'ADMIN_DASHBOARD',
    doc: "on|off: the queue dashboard at /admin/queues, which can pause, retry and delete jobs (default: on with API_KEYS, behind the admin tenant's key; off without)",
    parse: oneOf(['on', 'off']),
  }),
  webhookSecret: optional({
    env: 'WEBHOOK_SECRET',
    doc: 'Standard Webhooks signing secret, whsec_ and the base64 of 24 to 64 random bytes (whsec_$(openssl rand -base64 32)); callback_url is refused without it',
    redact: () => REDACTED,
    parse: webhookSecret,
  }),
  webhookAllowedHosts: optional({
    env: 'WEBHOOK_ALLOWED_HOSTS',
    doc: "Webhook receivers inside the operator's network that callback_url may name anyway: comma list of host names, IP addresses and CIDR ranges (hooks.internal,10.1.0.0/16); other loopback, private, link-local and cloud-metadata targets are refused",
    parse: webhookAllowedHosts,
  }),
  scoreCacheUrl: optional({
    env: 'SCORE_CACHE_URL',
    doc: 'Redis of the pair-score cache (redis:// or rediss://), ideally its own instance with maxmemory-policy allkeys-lru; the queue Redis is refused unless it is noeviction. Unset: no cache',
    parse: redisUrl,
    redact: redactRedisUrl,
  }),
  scoreCacheClusterNodes: optional({
    env: 'SCORE_CACHE_CLUSTER_NODES',
    doc: 'The pair-score cache on a Redis Cluster: comma list of host:port of some of its nodes; SCORE_CACHE_URL then gives only the password and TLS. Unset: SCORE_CACHE_URL is one server',
    parse: hostPortList(6379),
  }),
  scoreCacheTtlSeconds: withDefault({
    env: 'SCORE_CACHE_TTL_SECONDS',
    doc: 'How long a cached pair score lives',
    // A week: long enough that re-running an evaluation or a nightly batch finds its pairs.
    default: '604800',
    parse: integer(1),
  }),
  jobRetentionSeconds: withDefault({
    env: 'JOB_RETENTION_SECONDS',
    doc: 'How long finished jobs (results, idempotency keys, cancel tombstones) are kept',
    default: '86400',
    parse: integer(1),
  }),
  batchStoreUrl: withDefault({
    env: 'BATCH_STORE_URL',
    doc: 'Where batch inputs and results are kept: file:///dir (one host) or s3://bucket/prefix (any S3-compatible store; credentials and AWS_ENDPOINT_URL_S3 from the standard AWS_* variables)',
    // Under the XDG data directory, so `rerank-pool dev` works with no setup; replicas on
    // several hosts need a shared store (s3://).
    default: () => pathToFileURL(join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'rerank-pool', 'batches')).href,
    parse: storeUrl,
  }),
  batchUrlPrefixes: optional({
    env: 'BATCH_URL_PREFIXES',
    doc: 'Comma list of file:// and s3:// URL prefixes that a batch input_url or output_url may name (default: inside BATCH_STORE_URL only)',
    parse: storeUrlList,
  }),
  batchWindowLines: withDefault({
    env: 'BATCH_WINDOW_LINES',
    doc: 'Lines of one batch held in Redis at a time (queued, running, or finished and not yet written to the store)',
    default: '10000',
    parse: integer(1),
  }),
  batchWindowBytes: withDefault({
    env: 'BATCH_WINDOW_BYTES',
    doc: 'Input bytes of one batch held in Redis at a time (the window also stops at BATCH_WINDOW_LINES)',
    default: String(64 * 1024 * 1024),
    parse: integer(1),
  }),
  batchUploadLeaseMs: withDefault({
    env: 'BATCH_UPLOAD_LEASE_MS',
    doc: 'How long an upload that stopped sending (a crashed API, a cut connection) keeps its batch before the same upload sent again may continue it',
    default: '30000',
    parse: integer(1000),
  }),
  batchMaxLines: withDefault({
    env: 'BATCH_MAX_LINES',
    doc: 'Most lines one batch may hold; a longer upload gets 413 before any line runs',
    default: '100000000',
    parse: integer(1),
  }),
  logLevel: withDefault({
    env: 'LOG_LEVEL',
    doc: 'fatal|error|warn|info|debug|trace|silent',
    default: 'info',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  }),
  metricsPort: withDefault({
    env: 'METRICS_PORT',
    doc: "Port of the worker's /metrics and /healthz server (on HOST); the API serves /metrics on PORT",
    default: '9464',
    parse: integer(0, 65535),
  }),
  otelTracesExporter: withDefault({
    env: 'OTEL_TRACES_EXPORTER',
    doc: 'otlp|console|none; none starts no tracing SDK at all (the OpenTelemetry default would be otlp)',
    default: 'none',
    parse: oneOf(['otlp', 'console', 'none']),
  }),
  otelExporterOtlpProtocol: withDefault({
    env: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    doc: 'http/protobuf|http/json|grpc, for OTEL_TRACES_EXPORTER=otlp',
    default: 'http/protobuf',
    parse: oneOf(['http/protobuf', 'http/json', 'grpc']),
  }),
  otelExporterOtlpEndpoint: optional({
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    doc: 'Collector base URL, read by the exporter (default http://localhost:4318, :4317 for grpc); /v1/traces is appended for HTTP',
    parse: httpUrl,
  }),
  otelServiceName: optional({
    env: 'OTEL_SERVICE_NAME',
    doc: 'service.name of spans, read by the SDK (default rerank-pool-api, rerank-pool-worker, or rerank-pool for dev)',
    parse: nonEmptyString,
  }),
} as const;

export type ConfigSchema = typeof configSchema;

type ValueOf<S> = S extends EnvVarSpec<infer T, infer Required> ? (Required extends true ? T : T | undefined) : never;

export type Config = { readonly [K in keyof ConfigSchema]: ValueOf<ConfigSchema[K]> };
