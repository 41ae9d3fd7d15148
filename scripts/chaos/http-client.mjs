// One bounded HTTP request to 127.0.0.1 with node:http: never throws, always answers within
// `timeoutMs` with a status code, 'timeout' (no complete answer in time) or 'conn_error'
// (refused, reset: the API process is down or just died).
import { Agent, request } from 'node:http';

/** A kept-alive agent per load driver, as a real client would hold. */
export function keepAliveAgent(maxSockets = 8) {
  return new Agent({ keepAlive: true, maxSockets });
}

/**
 * @returns {Promise<{status: number|'timeout'|'conn_error', ms: number, body?: any, text?: string, headers?: object, error?: string}>}
 */
export function httpRequest({ port, method = 'GET', path, body, headers = {}, timeoutMs, agent, json = true }) {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, ms: performance.now() - started });
    };
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const req = request({
      host: '127.0.0.1',
      port,
      method,
      path,
      agent,
      headers: {
        ...(payload !== undefined && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        ...headers,
      },
    });
    const timer = setTimeout(() => {
      finish({ status: 'timeout' });
      req.destroy(new Error('timeout'));
    }, timeoutMs);
    req.on('error', (error) => finish({ status: 'conn_error', error: error.code ?? error.message }));
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', (error) => finish({ status: 'conn_error', error: error.code ?? error.message }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed;
        if (json) {
          try {
            parsed = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
        }
        finish({ status: res.statusCode, headers: res.headers, body: parsed, text: json ? undefined : text });
      });
    });
    if (payload !== undefined) req.end(payload);
    else req.end();
  });
}

/** Seconds of a Retry-After header, bounded to [min, max]; `fallback` when absent. */
export function retryAfterMs(headers, { fallback = 250, min = 100, max = 2000 } = {}) {
  const value = Number(headers?.['retry-after']);
  if (!Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, value * 1000));
}
