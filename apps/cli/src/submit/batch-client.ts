import { Readable } from 'node:stream';
import type { BatchAccepted, BatchReference, BatchStatusBody } from '@rerank-pool/contracts';
import { SubmitError } from './submit-error.js';

export interface BatchClientOptions {
  /** The API's base URL, e.g. http://localhost:8080. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <key>` when the API has API_KEYS set. */
  apiKey?: string;
}

/** Lines are sent in writes of about this many bytes: one per line would cost a syscall each. */
const WRITE_BYTES = 64 * 1024;

async function* joined(lines: AsyncIterable<string>): AsyncGenerator<Buffer> {
  let pending: string[] = [];
  let size = 0;
  for await (const line of lines) {
    pending.push(line, '\n');
    size += line.length + 1;
    if (size >= WRITE_BYTES) {
      yield Buffer.from(pending.join(''));
      pending = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.from(pending.join(''));
}

/** The `/v1/batches` endpoints over HTTP; every non-2xx answer becomes a `SubmitError` with the API's code. */
export class BatchClient {
  private readonly baseUrl: string;

  constructor(private readonly options: BatchClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** Uploads NDJSON lines as they are produced (never the whole file in memory). */
  async submit(lines: AsyncIterable<string>, idempotencyKey: string): Promise<BatchAccepted> {
    const response = await this.fetch(`/v1/batches?idempotency_key=${encodeURIComponent(idempotencyKey)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: Readable.from(joined(lines)),
      // Node's fetch needs this to send a streamed body.
      duplex: 'half',
    });
    return (await response.json()) as BatchAccepted;
  }

  /** Creates a batch whose input the service reads from `input_url` (nothing is uploaded). */
  async submitReference(reference: BatchReference, idempotencyKey: string): Promise<BatchAccepted> {
    const response = await this.fetch('/v1/batches', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify(reference),
    });
    return (await response.json()) as BatchAccepted;
  }

  async status(batchId: string): Promise<BatchStatusBody> {
    return (await (await this.fetch(`/v1/batches/${encodeURIComponent(batchId)}`)).json()) as BatchStatusBody;
  }

  /** The results lines (NDJSON text, input order) as they arrive. */
  async *results(batchId: string): AsyncGenerator<string> {
    const response = await this.fetch(`/v1/batches/${encodeURIComponent(batchId)}/results`);
    if (!response.body) return;
    const decoder = new TextDecoder();
    let rest = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      const text = rest + decoder.decode(chunk, { stream: true });
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line !== '') yield line;
    }
    rest += decoder.decode();
    if (rest !== '') yield rest;
  }

  private async fetch(path: string, init: RequestInit & { duplex?: 'half' } = {}): Promise<Response> {
    const url = `${this.baseUrl}${path}`;
    const headers = new Headers(init.headers);
    if (this.options.apiKey) headers.set('authorization', `Bearer ${this.options.apiKey}`);
    let response: Response;
    try {
      response = await fetch(url, { ...init, headers });
    } catch (error) {
      const reason = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      throw new SubmitError('API_UNREACHABLE', `cannot reach the API at ${this.baseUrl} (${reason}); set --api or RERANK_POOL_URL`, { cause: error });
    }
    if (response.ok) return response;
    const text = await response.text();
    let body: { error?: { code?: string; message?: string } } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    const retryAfter = Number(response.headers.get('retry-after'));
    throw new SubmitError(body?.error?.code ?? 'API_ERROR', `${init.method ?? 'GET'} ${path} answered ${response.status}: ${body?.error?.message ?? text}`, {
      status: response.status,
      retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    });
  }
}
