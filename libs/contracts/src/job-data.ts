import { Errors } from './errors.js';

export type JobPriority = 'interactive' | 'batch';

/** Which end of an over-long text truncation drops: `right` keeps its beginning, `left` its end. */
export type TruncationDirection = 'left' | 'right';

/** The payload of a rerank job, written by the API and read by workers. Bump `v` on breaking changes. */
export interface RerankJobData {
  v: 1;
  model: string;
  query: string;
  documents: string[];
  options: {
    maxTokensPerDoc?: number;
    /** TEI semantics: false means an over-long input fails the job with `input_too_long`. */
    truncate?: boolean;
    /** Which end truncation drops (TEI's `truncation_direction`): `left` keeps a text's end. Default `right`. */
    truncationDirection?: TruncationDirection;
    /** Score a document that does not fit as up to this many overlapping chunks (its best one counts). Default 1: truncation. */
    maxChunksPerDoc?: number;
  };
  priority: JobPriority;
  tenant: string;
  /** Epoch ms when the API accepted the request. */
  createdAt: number;
  /** Epoch ms: a job still waiting then is failed with `deadline_exceeded`, not computed. */
  deadline?: number;
  callbackUrl?: string;
  /**
   * W3C trace context carrier (`traceparent`, `tracestate`): the job span's parent, except for a
   * batch line (`batch` set), where it is the span of the request that created the batch and the
   * job span links to it from a trace of its own.
   */
  trace?: Record<string, string>;
  /**
   * How the API shapes the stored result for `GET /v1/jobs/:id`, webhooks and batch result lines
   * (the request's `top_n`, `return_documents` and `return_signals`). Workers ignore it: they
   * always score every document.
   */
  response?: { topN?: number; returnDocuments?: boolean; returnSignals?: boolean };
  /**
   * True for jobs whose status a client polls (`POST /v1/jobs`): the worker then writes their
   * progress. Synchronous requests and batch lines skip those Redis writes.
   */
  reportProgress?: boolean;
  /**
   * Set on the jobs of offline batch lines: the worker that finishes such a job records its
   * results line in the batch (libs/batches), atomically and once, before acknowledging it.
   */
  batch?: BatchLineRef;
  /**
   * The pair-score cache for this job: absent, the worker looks every pair up and stores what it
   * computes; `store`, the API already looked them up (it sends only the misses), so the worker
   * only stores; `off`, the request said `cache: false` and the cache is neither read nor written.
   */
  scoreCache?: 'store' | 'off';
  /**
   * Set on synchronous requests' jobs: the pub/sub channel of the API process that waits. The
   * worker publishes the result there as soon as it has it, ahead of recording it with BullMQ;
   * the completion event stays the path of record (a worker older than this field, a message
   * lost to a reconnect, a failure).
   */
  replyTo?: string;
}

/** Which batch line a job computes. */
export interface BatchLineRef {
  /** The batch id (`bat-…`). */
  id: string;
  /** The line's position among the batch's lines (0-based): its place in the results. */
  index: number;
  /** The line's own `id`, or its line number, carried back in its results line. */
  line: string | number;
}

/** What a worker returns for a job (BullMQ `returnvalue`). Arrays are indexed like `documents`. */
export interface RerankJobResult {
  v: 1;
  model: string;
  scores: number[];
  logits: number[];
  inputTokens: number;
  timings: { queueMs: number; inferenceMs: number };
  /**
   * Per document, whether its text was cut to fit the model's window (a chunked document: whether
   * any of its chunks was). Absent in results of workers older than this field.
   */
  truncated?: boolean[];
  /** How many documents' scores came from the pair-score cache; absent when it was not consulted. */
  cachedPairs?: number;
  /**
   * Per document, the chunk that gave its score; present only for jobs that asked for chunks
   * (`options.maxChunksPerDoc` > 1).
   */
  chunks?: ChunkResult[];
}

/** Which chunk of a document scored best: its index, the document's chunk count, its first token. */
export interface ChunkResult {
  index: number;
  count: number;
  startToken: number;
}

type Reader = {
  object(value: unknown, field: string): Record<string, unknown>;
  string(value: unknown, field: string, allowEmpty?: boolean): string;
  number(value: unknown, field: string, integer?: boolean): number;
};

const read: Reader = {
  object(value, field) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw Errors.invalidRequest(`${field} must be an object`, field);
    }
    return value as Record<string, unknown>;
  },
  string(value, field, allowEmpty = true) {
    if (typeof value !== 'string' || (!allowEmpty && value.length === 0)) {
      throw Errors.invalidRequest(`${field} must be a ${allowEmpty ? '' : 'non-empty '}string`, field);
    }
    return value;
  },
  number(value, field, integer = false) {
    if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      throw Errors.invalidRequest(`${field} must be a finite ${integer ? 'integer' : 'number'}`, field);
    }
    return value;
  },
};

function batchLineRef(value: unknown): BatchLineRef {
  const ref = read.object(value, 'batch');
  const line = ref.line;
  if (typeof line !== 'string' && !(typeof line === 'number' && Number.isInteger(line))) {
    throw Errors.invalidRequest('batch.line must be a string or an integer', 'batch.line');
  }
  return {
    id: read.string(ref.id, 'batch.id', false),
    index: read.number(ref.index, 'batch.index', true),
    line,
  };
}

function optional<T>(value: unknown, parse: (value: unknown) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}

function positiveInteger(value: unknown, field: string): number {
  const number = read.number(value, field, true);
  if (number < 1) throw Errors.invalidRequest(`${field} must be at least 1`, field);
  return number;
}

function chunkResults(value: unknown, length: number): ChunkResult[] {
  if (!Array.isArray(value) || value.length !== length) {
    throw Errors.invalidRequest(`chunks must be an array of ${length} objects`, 'chunks');
  }
  return value.map((entry, index) => {
    const chunk = read.object(entry, `chunks[${index}]`);
    return {
      index: read.number(chunk.index, `chunks[${index}].index`, true),
      count: read.number(chunk.count, `chunks[${index}].count`, true),
      startToken: read.number(chunk.startToken, `chunks[${index}].startToken`, true),
    };
  });
}

function stringRecord(value: unknown, field: string): Record<string, string> {
  const record = read.object(value, field);
  for (const [key, entry] of Object.entries(record)) read.string(entry, `${field}.${key}`);
  return record as Record<string, string>;
}

function numberArray(value: unknown, field: string, length: number): number[] {
  if (!Array.isArray(value) || value.length !== length) {
    throw Errors.invalidRequest(`${field} must be an array of ${length} numbers`, field);
  }
  value.forEach((entry, index) => read.number(entry, `${field}[${index}]`));
  return value as number[];
}

function scoreCacheMode(value: unknown): 'store' | 'off' {
  if (value !== 'store' && value !== 'off') throw Errors.invalidRequest('scoreCache must be "store" or "off"', 'scoreCache');
  return value;
}

function booleanArray(value: unknown, field: string, length: number): boolean[] {
  if (!Array.isArray(value) || value.length !== length || value.some((entry) => typeof entry !== 'boolean')) {
    throw Errors.invalidRequest(`${field} must be an array of ${length} booleans`, field);
  }
  return value as boolean[];
}

/** Validates a job payload read from Redis; throws `invalid_request` naming the first bad field. */
export function parseRerankJobData(input: unknown): RerankJobData {
  const data = read.object(input, 'data');
  if (data.v !== 1) throw Errors.invalidRequest(`data.v must be 1, got ${JSON.stringify(data.v)}`, 'v');
  if (!Array.isArray(data.documents) || data.documents.length === 0) {
    throw Errors.invalidRequest('documents must be a non-empty array of strings', 'documents');
  }
  data.documents.forEach((doc, index) => read.string(doc, `documents[${index}]`));
  const options = read.object(data.options, 'options');
  if (options.truncate !== undefined && typeof options.truncate !== 'boolean') {
    throw Errors.invalidRequest('options.truncate must be a boolean', 'options.truncate');
  }
  if (options.truncationDirection !== undefined && options.truncationDirection !== 'left' && options.truncationDirection !== 'right') {
    throw Errors.invalidRequest('options.truncationDirection must be "left" or "right"', 'options.truncationDirection');
  }
  if (data.priority !== 'interactive' && data.priority !== 'batch') {
    throw Errors.invalidRequest('priority must be "interactive" or "batch"', 'priority');
  }
  const response = optional(data.response, (value) => read.object(value, 'response'));
  return {
    v: 1,
    model: read.string(data.model, 'model', false),
    query: read.string(data.query, 'query', false),
    documents: data.documents as string[],
    options: {
      maxTokensPerDoc: optional(options.maxTokensPerDoc, (value) => read.number(value, 'options.maxTokensPerDoc', true)),
      truncate: options.truncate as boolean | undefined,
      truncationDirection: options.truncationDirection as TruncationDirection | undefined,
      maxChunksPerDoc: optional(options.maxChunksPerDoc, (value) => positiveInteger(value, 'options.maxChunksPerDoc')),
    },
    priority: data.priority,
    tenant: read.string(data.tenant, 'tenant', false),
    createdAt: read.number(data.createdAt, 'createdAt'),
    deadline: optional(data.deadline, (value) => read.number(value, 'deadline')),
    callbackUrl: optional(data.callbackUrl, (value) => read.string(value, 'callbackUrl', false)),
    trace: optional(data.trace, (value) => stringRecord(value, 'trace')),
    response: response && {
      topN: optional(response.topN, (value) => read.number(value, 'response.topN', true)),
      returnDocuments: response.returnDocuments === true ? true : undefined,
      returnSignals: response.returnSignals === true ? true : undefined,
    },
    reportProgress: data.reportProgress === true ? true : undefined,
    batch: optional(data.batch, batchLineRef),
    scoreCache: optional(data.scoreCache, scoreCacheMode),
    replyTo: optional(data.replyTo, (value) => read.string(value, 'replyTo', false)),
  };
}

/** Validates a worker's result for a job with `documentCount` documents. */
export function parseRerankJobResult(input: unknown, documentCount: number): RerankJobResult {
  const result = read.object(input, 'result');
  if (result.v !== 1) throw Errors.invalidRequest(`result.v must be 1, got ${JSON.stringify(result.v)}`, 'v');
  const timings = read.object(result.timings, 'timings');
  return {
    v: 1,
    model: read.string(result.model, 'model', false),
    scores: numberArray(result.scores, 'scores', documentCount),
    logits: numberArray(result.logits, 'logits', documentCount),
    inputTokens: read.number(result.inputTokens, 'inputTokens', true),
    timings: {
      queueMs: read.number(timings.queueMs, 'timings.queueMs'),
      inferenceMs: read.number(timings.inferenceMs, 'timings.inferenceMs'),
    },
    ...(result.cachedPairs === undefined ? {} : { cachedPairs: read.number(result.cachedPairs, 'cachedPairs', true) }),
    ...(result.truncated === undefined ? {} : { truncated: booleanArray(result.truncated, 'truncated', documentCount) }),
    ...(result.chunks === undefined ? {} : { chunks: chunkResults(result.chunks, documentCount) }),
  };
}
