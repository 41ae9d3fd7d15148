import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchAccepted, BatchReference, BatchStatusBody } from '@rerank-pool/contracts';
import { parseCommandArgs, positiveIntegerArg, requiredArg, type CommandOptions } from '../args.js';
import { UsageError } from '../cli-error.js';
import { Progress } from '../progress.js';
import { BatchClient } from '../submit/batch-client.js';
import { inputFingerprint, referenceFingerprint } from '../submit/input-fingerprint.js';
import { SubmitError } from '../submit/submit-error.js';
import { jsonlInput, trecInput } from '../submit/submit-input.js';
import type { SubmitInput } from '../submit/submit-input.js';
import { readFailures, writeResults } from '../submit/submit-output.js';
import type { LineFailure, OutputFormat } from '../submit/submit-output.js';

export const usage = [
  'submit FILE --out FILE [--api URL] [--format jsonl|trec] [--topics FILE --corpus FILE] [--k-in N] [--model M] [--interval-ms N]   (API key from RERANK_POOL_API_KEY)',
  'submit --input-url URL [--output-url URL] [--out FILE] [--api URL] [--interval-ms N]   (file:///… or s3://…, read and written by the service)',
].join('\n');

const DEFAULT_API = 'http://localhost:8080';
const DEFAULT_K_IN = 100;
const DEFAULT_INTERVAL_MS = 1000;
/** A re-run may find its killed predecessor's upload still held by the API (its lease, 30 s). */
const BUSY_RETRY_MS = 90_000;
/** Failed lines printed; the rest are counted. */
const FAILURES_SHOWN = 5;

interface CommonOptions {
  api: string;
  intervalMs: number;
}

/** `submit FILE`: the CLI reads the file and uploads its requests. */
interface UploadOptions extends CommonOptions {
  source: 'file';
  file: string;
  out: string;
  format: OutputFormat;
  topics?: string;
  corpus?: string;
  kIn: number;
  model?: string;
}

/** `submit --input-url`: the service reads the input where it is; at least one of `out` and `outputUrl` is set. */
interface ReferenceOptions extends CommonOptions {
  source: 'url';
  inputUrl: string;
  outputUrl?: string;
  out?: string;
}

type SubmitOptions = UploadOptions | ReferenceOptions;

const ARGS = {
  out: { type: 'string', value: 'FILE', description: 'Where to write the results' },
  api: { type: 'string', value: 'URL', description: `The rerank-pool API (default: RERANK_POOL_URL or ${DEFAULT_API})` },
  format: { type: 'string', value: 'jsonl|trec', description: 'Input and output format (default: jsonl)' },
  topics: { type: 'string', value: 'FILE', description: 'Queries for --format trec' },
  corpus: { type: 'string', value: 'FILE', description: 'Documents for --format trec' },
  'k-in': { type: 'string', value: 'N', description: `Candidates per query re-ranked with --format trec (default: ${DEFAULT_K_IN})` },
  model: { type: 'string', value: 'M', description: 'Model for every request (default: the service\'s first)' },
  'interval-ms': { type: 'string', value: 'N', description: `How often progress is polled (default: ${DEFAULT_INTERVAL_MS})` },
  'input-url': { type: 'string', value: 'URL', description: 'Input the service reads itself (file:///… or s3://…) instead of FILE' },
  'output-url': { type: 'string', value: 'URL', description: 'Where the service writes the results, with --input-url' },
} as const satisfies CommandOptions;

type Values = ReturnType<typeof parseCommandArgs<typeof ARGS>>['values'];

/** The service checks the URL against its allowed prefixes; a bare path is caught here, with the usage. */
function urlArg(name: string, value: string): string {
  try {
    new URL(value);
  } catch {
    throw new UsageError(`submit: --${name} must be a URL (file:///path or s3://bucket/key), got "${value}"`);
  }
  return value;
}

function referenceOptions(values: Values, positionals: string[], common: CommonOptions): ReferenceOptions {
  if (positionals.length > 0) throw new UsageError(`submit: give an input FILE or --input-url, not both (got ${positionals.join(' ')} and --input-url)`);
  // The service reads the NDJSON requests as they are, and its results are JSONL.
  const inapplicable = [
    values.format !== undefined && values.format !== 'jsonl' ? `--format ${values.format}` : undefined,
    values.topics !== undefined ? '--topics' : undefined,
    values.corpus !== undefined ? '--corpus' : undefined,
    values['k-in'] !== undefined ? '--k-in' : undefined,
    values.model !== undefined ? '--model' : undefined,
  ].filter((name) => name !== undefined);
  if (inapplicable.length > 0) {
    const names = inapplicable.length === 1 ? inapplicable[0] : `${inapplicable.slice(0, -1).join(', ')} and ${inapplicable.at(-1)}`;
    throw new UsageError(`submit: ${names} ${inapplicable.length === 1 ? 'does' : 'do'} not apply to --input-url (the service reads its NDJSON requests as they are)`);
  }
  const inputUrl = urlArg('input-url', requiredArg('submit', 'input-url', values['input-url']));
  const outputUrl = values['output-url'] === undefined ? undefined : urlArg('output-url', requiredArg('submit', 'output-url', values['output-url']));
  const out = values.out === undefined ? undefined : requiredArg('submit', 'out', values.out);
  if (out === undefined && outputUrl === undefined) {
    throw new UsageError('submit: --input-url needs --out FILE, --output-url URL or both (else the results go nowhere you named)');
  }
  return { ...common, source: 'url', inputUrl, outputUrl, out };
}

function uploadOptions(values: Values, positionals: string[], common: CommonOptions): UploadOptions {
  if (values['output-url'] !== undefined) throw new UsageError('submit: --output-url only applies to --input-url');
  if (positionals.length !== 1) throw new UsageError(`submit: give exactly one input FILE (or --input-url URL), got ${positionals.length}`);
  const format = values.format ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'trec') throw new UsageError(`submit: --format must be jsonl or trec, got "${format}"`);
  if (format === 'trec' && (values.topics === undefined || values.corpus === undefined)) {
    throw new UsageError('submit: --format trec needs --topics FILE and --corpus FILE');
  }
  if (format === 'jsonl' && (values.topics !== undefined || values.corpus !== undefined || values['k-in'] !== undefined)) {
    throw new UsageError('submit: --topics, --corpus and --k-in only apply to --format trec');
  }
  return {
    ...common,
    source: 'file',
    file: positionals[0]!,
    out: requiredArg('submit', 'out', values.out),
    format,
    topics: values.topics,
    corpus: values.corpus,
    kIn: positiveIntegerArg('submit', 'k-in', values['k-in']) ?? DEFAULT_K_IN,
    model: values.model,
  };
}

function parseOptions(argv: string[]): SubmitOptions {
  const { values, positionals } = parseCommandArgs('submit', argv, ARGS);
  const common: CommonOptions = {
    api: values.api ?? process.env.RERANK_POOL_URL ?? DEFAULT_API,
    intervalMs: positiveIntegerArg('submit', 'interval-ms', values['interval-ms']) ?? DEFAULT_INTERVAL_MS,
  };
  return values['input-url'] !== undefined ? referenceOptions(values, positionals, common) : uploadOptions(values, positionals, common);
}

async function readInput(options: UploadOptions): Promise<{ input: SubmitInput; key: string }> {
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

/**
 * A by-reference batch stays `queued` while the service counts its input, its total growing;
 * the total is final once the status moves on. (An upload's total is final when it is accepted.)
 */
function totalFinal(status: BatchStatusBody): boolean {
  return status.input_url === undefined || status.status !== 'queued' || status.finished_at !== undefined;
}

/** Polls until every line has finished, showing lines done, pairs/s and ETA. */
async function waitForBatch(client: BatchClient, batchId: string, intervalMs: number): Promise<BatchStatusBody> {
  let status = await client.status(batchId);
  const progress = new Progress({ label: 'lines reranked', total: status.total });
  // Timed from the first status with a final total: counting the input is not scoring it.
  let since: { time: number; pairs: number } | undefined;
  for (;;) {
    const done = status.completed + status.failed + status.cancelled;
    if (totalFinal(status)) {
      since ??= { time: Date.now(), pairs: status.pairs.completed };
      const seconds = (Date.now() - since.time) / 1000;
      const pairsPerSecond = seconds > 0 ? (status.pairs.completed - since.pairs) / seconds : 0;
      progress.update(done, status.total, `${pairsPerSecond.toFixed(1)} pairs/s`);
    } else {
      progress.update(done, status.total, 'queued (total may still grow)', { totalFinal: false });
    }
    if (status.finished_at !== undefined) break;
    await sleep(intervalMs);
    status = await client.status(batchId);
  }
  progress.finish();
  return status;
}

function printFailures(failures: readonly LineFailure[]): void {
  for (const failure of failures.slice(0, FAILURES_SHOWN)) process.stderr.write(`  line ${JSON.stringify(failure.id)}: [${failure.code}] ${failure.message}\n`);
  if (failures.length > FAILURES_SHOWN) process.stderr.write(`  ... and ${failures.length - FAILURES_SHOWN} more\n`);
}

function counts(status: BatchStatusBody): string {
  return `${status.completed} completed, ${status.failed} failed, ${status.cancelled} cancelled`;
}

async function submitFile(client: BatchClient, options: UploadOptions): Promise<number> {
  const { input, key } = await readInput(options);
  process.stderr.write(`uploading ${input.requests} requests (${input.pairs} pairs) to ${options.api}\n`);
  const accepted = await upload(client, input, key);
  process.stderr.write(`batch ${accepted.id}: ${accepted.total} lines, ${accepted.status}\n`);
  const status = await waitForBatch(client, accepted.id, options.intervalMs);
  const failures = await writeResults(options.out, options.format, client.results(accepted.id), input.docids);
  process.stderr.write(`wrote ${options.out}: ${counts(status)}\n`);
  printFailures(failures);
  return failures.length === 0 && status.status !== 'cancelled' ? 0 : 1;
}

async function submitReference(client: BatchClient, options: ReferenceOptions): Promise<number> {
  const reference: BatchReference = { input_url: options.inputUrl };
  if (options.outputUrl !== undefined) reference.output_url = options.outputUrl;
  const to = options.outputUrl === undefined ? '' : `, results to ${options.outputUrl}`;
  process.stderr.write(`submitting ${options.inputUrl} by reference to ${options.api}${to}\n`);
  const accepted = await client.submitReference(reference, referenceFingerprint(options));
  process.stderr.write(`batch ${accepted.id}: ${accepted.total} lines${accepted.status === 'queued' ? ' so far' : ''}, ${accepted.status}\n`);
  const status = await waitForBatch(client, accepted.id, options.intervalMs);
  // The service's reason when it could not read the input or write output_url (the results are then still served by the API).
  if (status.error !== undefined) process.stderr.write(`batch ${accepted.id}: ${status.error}\n`);
  let failures: LineFailure[] = [];
  if (options.out !== undefined) failures = await writeResults(options.out, 'jsonl', client.results(accepted.id));
  else if (status.failed > 0) failures = await readFailures(client.results(accepted.id));
  // With an error, output_url may not hold the results: only places known to hold them are named.
  const places = [status.error === undefined ? status.output_url : undefined, options.out].filter((place) => place !== undefined);
  const where = places.length > 0 ? places.join(' and ') : `${options.api.replace(/\/+$/, '')}${accepted.results_url} (only)`;
  process.stderr.write(`results in ${where}: ${counts(status)}\n`);
  printFailures(failures);
  return failures.length === 0 && status.failed === 0 && status.status !== 'cancelled' && status.error === undefined ? 0 : 1;
}

/**
 * Re-ranks offline through the batches API and follows progress. `submit FILE` uploads the file
 * (streamed) and writes the results to --out; `submit --input-url` has the service read the input
 * where it is and write the results to --output-url, and downloads them to --out if given.
 * Re-running an interrupted submit continues the same batch: the idempotency key is a hash of
 * the inputs and options (of the URLs, by reference).
 */
export async function submit(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  const client = new BatchClient({ baseUrl: options.api, apiKey: process.env.RERANK_POOL_API_KEY });
  return options.source === 'file' ? submitFile(client, options) : submitReference(client, options);
}
