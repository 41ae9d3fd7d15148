import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A client connection written byte by byte by the test: slow heads, stalled bodies, connection counts. */
export interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves once the server (or the test) closed the connection: what arrived, and when, in ms after `open`. */
  closed: Promise<{ text: string; afterMs: number }>;
  write(text: string): void;
}

export function openConnection(port: number): Promise<RawConnection> {
  const started = performance.now();
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  // A server that refuses the connection resets it: that is an outcome here, not a failure.
  socket.on('error', () => undefined);
  const closed = new Promise<{ text: string; afterMs: number }>((resolve) => socket.once('close', () => resolve({ text, afterMs: performance.now() - started })));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve({ socket, received: () => text, closed, write: (chunk) => void socket.write(chunk) }));
    socket.once('error', reject);
  });
}

/** The first HTTP/1.1 response in `text` (Content-Length framed, as the API answers). */
export function parseResponse(text: string): RawResponse {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd === -1) throw new Error(`no complete response in ${JSON.stringify(text)}`);
  const [statusLine, ...lines] = text.slice(0, headEnd).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  return { status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(headEnd + 4, headEnd + 4 + length) };
}

/** Waits for the first complete response on the connection. */
export async function nextResponse(connection: RawConnection, timeoutMs = 10_000): Promise<RawResponse> {
  const started = Date.now();
  for (;;) {
    const text = connection.received();
    const headEnd = text.indexOf('\r\n\r\n');
    if (headEnd !== -1) {
      const response = parseResponse(text);
      if (Buffer.byteLength(response.body) >= Number(response.headers['content-length'] ?? 0)) return response;
    }
    if (connection.socket.destroyed || Date.now() - started > timeoutMs) throw new Error(`no response; received ${JSON.stringify(text)}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A request head for a body of `contentLength` bytes, keep-alive. */
export function requestHead(method: string, path: string, contentType: string, contentLength: number, extra: Record<string, string> = {}): string {
  const headers = { host: 'localhost', 'content-type': contentType, 'content-length': String(contentLength), ...extra };
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
}
