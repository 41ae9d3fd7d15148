import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TelemetryError } from '../telemetry-error.js';
import type { RerankMetrics } from './rerank-metrics.js';

export interface MetricsServerOptions {
  metrics: RerankMetrics;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Interface to listen on. Default `0.0.0.0`, so Prometheus and kubelet probes reach it. */
  host?: string;
  /** Answers `/healthz`: true gives 200, false 503 (e.g. while the process drains). */
  healthy: () => boolean;
}

/**
 * A tiny HTTP server for processes without an HTTP API (workers): `GET /metrics` (Prometheus
 * text) and `GET /healthz` (liveness/readiness probes). Nothing else is served.
 */
export class MetricsServer {
  private closing?: Promise<void>;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(options: MetricsServerOptions): Promise<MetricsServer> {
    const { metrics, port, host = '0.0.0.0', healthy } = options;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TelemetryError('TELEMETRY_INVALID_OPTION', `port must be an integer 0..65535, got ${port}`);
    }
    const server = createServer((request, response) => {
      void answer(request, response, metrics, healthy);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.unref();
    return new MetricsServer(server, (server.address() as AddressInfo).port);
  }

  /** Stops listening and drops idle connections. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }
}

async function answer(request: IncomingMessage, response: ServerResponse, metrics: RerankMetrics, healthy: () => boolean): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  if (path === '/healthz') {
    const ok = healthy();
    response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'draining' }));
    return;
  }
  if (path === '/metrics') {
    try {
      const body = await metrics.metrics();
      response.writeHead(200, { 'content-type': metrics.contentType }).end(body);
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${(error as Error).message}\n`);
    }
    return;
  }
  response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
}
