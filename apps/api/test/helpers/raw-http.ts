import { connect } from 'node:net';
import { expect } from 'vitest';

export interface RawHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  json(): unknown;
}

/**
 * Sends `request` byte for byte over a fresh connection (what no HTTP client would send) and
 * reads until the server closes it or the first response is complete.
 */
export function rawRequest(port: number, request: string, timeoutMs = 10_000): Promise<RawHttpResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no response within ${timeoutMs} ms; received ${JSON.stringify(text)}`));
    }, timeoutMs);
    const finish = () => {
      const headEnd = text.indexOf('\r\n\r\n');
      if (headEnd === -1) return false;
      const [statusLine, ...lines] = text.slice(0, headEnd).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] ?? Number.NaN);
      const body = text.slice(headEnd + 4);
      if (!Number.isNaN(length) && Buffer.byteLength(body) < length) return false;
      clearTimeout(timer);
      socket.destroy();
      const exact = Number.isNaN(length) ? body : Buffer.from(body).subarray(0, length).toString('utf8');
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: exact, json: () => JSON.parse(exact) });
      return true;
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!finish()) {
        clearTimeout(timer);
        reject(new Error(`connection closed without a response; received ${JSON.stringify(text)}`));
      }
    });
    socket.write(request);
  });
}

/** The documented error shape: `{error: {code, message, field?}}`. */
export function expectErrorBody(body: unknown, code: string): void {
  expect(body).toMatchObject({ error: { code, message: expect.any(String) } });
  const keys = Object.keys((body as { error: Record<string, unknown> }).error);
  for (const key of keys) expect(['code', 'message', 'field', 'job_id']).toContain(key);
}
