import { request as httpRequest } from 'node:http';
import type { Agent } from 'node:http';

export interface JsonReply<T> {
  status: number;
  body: T;
}

/**
 * One request with a JSON answer, on plain node:http over the caller's kept-alive agent: the
 * load generator shares the machine's cores with the service it measures, and `fetch` costs
 * several times more CPU per request.
 */
export function requestJson<T>(url: URL, agent: Agent, method: string, body?: { type: string; text: string }): Promise<JsonReply<T>> {
  return new Promise((resolve, reject) => {
    const headers = body ? { 'content-type': body.type, 'content-length': Buffer.byteLength(body.text) } : {};
    const req = httpRequest(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T });
        } catch (error) {
          reject(new Error(`${method} ${url.pathname} answered ${res.statusCode} with a body that is not JSON: ${(error as Error).message}`));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body?.text);
  });
}
