import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchAccepted, BatchStatusBody } from '@rerank-pool/contracts';
import { parseCommandArgs, positiveIntegerArg, requiredArg } from '../args.js';
import { UsageError } from '../cli-error.js';
import { Progress } from '../progress.js';
import { BatchClient } from '../submit/batch-client.js';
import { inputFingerprint } from '../submit/input-fingerprint.js';
import { SubmitError } from '../submit/submit-error.js';
import { jsonlInput, trecInput } from '../submit/submit-input.js';
import type { SubmitInput } from '../submit/submit-input.js';
import { writeResults } from '../submit/submit-output.js';
import type { OutputFormat } from '../submit/submit-output.js';

export const usage =
  'submit FILE --out FILE [--api URL] [--format jsonl|trec] [--topics FILE --corpus FILE] [--k-in N] [--model M] [--interval-ms N]   (API key from RERANK_POOL_API_KEY)';

const DEFAULT_API = 'http://localhost:8080';
const DEFAULT_K_IN = 100;
const DEFAULT_INTERVAL_MS = 1000;
/** A re-run may find its killed predecessor's upload still held by the API (its lease, 30 s). */
const BUSY_RETRY_MS = 90_000;

interface SubmitOptions {
  file: string;
  out: string;
  api: string;
  format: OutputFormat;
  topics?: string;
  corpus?: string;
  kIn: number;
  model?: string;
  intervalMs: number;
}

function parseOptions(argv: string[]): SubmitOptions {
  const { values, positionals } = parseCommandArgs('submit', argv, {
    out: { type: 'string' },
    api: { type: 'string' },
    format: { type: 'string' },
    topics: { type: 'string' },
    corpus: { type: 'string' },
    'k-in': { type: 'string' },
    model: { type: 'string' },
    'interval-ms': { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(`submit: give exactly one input FILE, got ${positionals.length}`);
  const format = values.format ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'trec') throw new UsageError(`submit: --format must be jsonl or trec, got "${format}"`);
  if (format === 'trec' && (values.topics === undefined || values.corpus === undefined)) {
    throw new UsageError('submit: --format trec needs --topics FILE and --corpus FILE');
  }
  if (format === 'jsonl' && (values.topics !== undefined || values.corpus !== undefined || values['k-in'] !== undefined)) {
    throw new UsageError('submit: --topics, --corpus and --k-in only apply to --format trec');
  }
  return {
    file: positionals[0]!,
    out: requiredArg('submit', 'out', values.out),
    api: values.api ?? process.env.RERANK_POOL_URL ?? DEFAULT_API,
    format,
    topics: values.topics,
    corpus: values.corpus,
    kIn: positiveIntegerArg('submit', 'k-in', values['k-in']) ?? DEFAULT_K_IN,
    model: values.model,
    intervalMs: positiveIntegerArg('submit', 'interval-ms', values['interval-ms']) ?? DEFAULT_INTERVAL_MS,
  };
}

async function readInput(options: SubmitOptions): Promise<{ input: SubmitInput; key: string }> {
  const { format, kIn, model } = options;
  if (format === 'jsonl') {
    const input = await jsonlInput(options.file, model);
    return { input, key: await inputFingerprint([options.file], { format, model }) };
  }
  const files = { run: options.file, topics: options.topics!, corpus: options.corpus! };
  const input = await trecInput({ ...files, kIn, model });
  return { input, key: await inputFingerprint([files.run, files.topics, files.corpus], { format, kIn, model }) };
}

/** Uploads, waiting out `batch_busy` (the upload of an interrupted earlier run the API still holds). */
async function upload(client: BatchClient, input: SubmitInput, key: string): Promise<BatchAccepted> {
  const deadline = Date.now() + BUSY_RETRY_MS;
  for (;;) {
    try {
      return await client.submit(input.lines(), key);
    } catch (error) {
      if (!(error instanceof SubmitError) || error.code !== 'batch_busy' || Date.now() > deadline) throw error;
      await sleep((error.retryAfterSeconds ?? 1) * 1000);
    }
  }
}

/** Polls until every line has finished, showing lines done, pairs/s and ETA. */
async function waitForBatch(client: BatchClient, batchId: string, intervalMs: number): Promise<BatchStatusBody> {
  let status = await client.status(batchId);
  const progress = new Progress({ label: 'lines reranked', total: status.total });
  const started = Date.now();
  const pairsAtStart = status.pairs.completed;
  for (;;) {
    const seconds = (Date.now() - started) / 1000;
    const pairsPerSecond = seconds > 0 ? (status.pairs.completed - pairsAtStart) / seconds : 0;
    progress.update(status.completed + status.failed + status.cancelled, status.total, `${pairsPerSecond.toFixed(1)} pairs/s`);
    if (status.finished_at !== undefined) break;
    await sleep(intervalMs);
    status = await client.status(batchId);
  }
  progress.finish();
  return status;
}

/**
 * Re-ranks a file offline through the batches API: uploads it (streamed), follows progress,
 * writes the results. Re-running an interrupted submit continues the same batch: the
 * idempotency key is a hash of the inputs and options.
 */
export async function submit(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  const { input, key } = await readInput(options);
  const client = new BatchClient({ baseUrl: options.api, apiKey: process.env.RERANK_POOL_API_KEY });
  process.stderr.write(`uploading ${input.requests} requests (${input.pairs} pairs) to ${options.api}\n`);
  const accepted = await upload(client, input, key);
  process.stderr.write(`batch ${accepted.id}: ${accepted.total} lines, ${accepted.status}\n`);
  const status = await waitForBatch(client, accepted.id, options.intervalMs);
  const failures = await writeResults(options.out, options.format, client.results(accepted.id), input.docids);
  process.stderr.write(`wrote ${options.out}: ${status.completed} completed, ${status.failed} failed, ${status.cancelled} cancelled\n`);
  for (const failure of failures.slice(0, 5)) process.stderr.write(`  line ${JSON.stringify(failure.id)}: [${failure.code}] ${failure.message}\n`);
  if (failures.length > 5) process.stderr.write(`  ... and ${failures.length - 5} more\n`);
  return failures.length === 0 && status.status !== 'cancelled' ? 0 : 1;
}
