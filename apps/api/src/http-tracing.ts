import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context, Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { getTracer, traceLogFields } from '@rerank-pool/telemetry';
import { REQUEST_ID_HEADER } from './request-id.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Context holding the request's server span (null until the tracing hook ran); route handlers run inside it. */
    traceContext: Context | null;
  }
}

// Scrapes and probes arrive every few seconds and say nothing about a request's path.
const UNTRACED_URLS = new Set(['/metrics', '/healthz', '/readyz']);

const serverSpans = new WeakMap<FastifyRequest, Span>();

/**
 * One SERVER span per request, continuing the caller's W3C trace context, made the active
 * context of the route handler; the response carries the request id, and the request's log
 * lines carry `trace_id`/`span_id`.
 *
 * Why hooks and not @opentelemetry/instrumentation-http: that instrumentation patches `node:http`
 * through module-load hooks, which in an ESM process only work when the SDK is preloaded with
 * `node --import` before anything imports http; forgetting the flag silently loses every server
 * span. Hooks work however the process starts, name spans after the route pattern, and cost
 * nothing beyond a non-recording span when tracing is off.
 *
 * Install before any route and before the auth hook, so 401s are traced too.
 */
export function installHttpTracing(app: FastifyInstance): void {
  app.decorateRequest('traceContext', null);

  // Fastify runs the handler after body parsing, outside the hook's async context, so the
  // handler itself is wrapped to run in the request's context (enqueue spans become children).
  app.addHook('onRoute', (route) => {
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function tracedHandler(this: FastifyInstance, request, reply) {
      return context.with(request.traceContext ?? ROOT_CONTEXT, () => handler.call(this, request, reply));
    };
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url;
    if (route !== undefined && UNTRACED_URLS.has(route)) {
      request.traceContext = parent;
      return;
    }
    const span = getTracer().startSpan(
      route === undefined ? request.method : `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?')[0],
          'url.scheme': request.protocol,
          ...(route === undefined ? {} : { 'http.route': route }),
          ...serverAddress(request),
          'network.protocol.version': request.raw.httpVersion,
          ...(request.ip === undefined ? {} : { 'client.address': request.ip }),
          ...(typeof request.headers['user-agent'] === 'string' ? { 'user_agent.original': request.headers['user-agent'] } : {}),
        },
      },
      parent,
    );
    request.traceContext = trace.setSpan(parent, span);
    if (span.isRecording()) {
      serverSpans.set(request, span);
      // Bound once here rather than mixed in per line: Fastify writes its own request lines
      // (completed, errors) outside the handler's async context.
      const log = request.log.child(traceLogFields(request.traceContext));
      request.log = log;
      reply.log = log;
    }
  });

  app.addHook('onResponse', async (request, reply) => endServerSpan(request, reply));
  app.addHook('onRequestAbort', async (request) => endServerSpan(request));
}

/**
 * `server.address`/`server.port` as OpenTelemetry's HTTP conventions derive them: the name the
 * client addressed (the Host header, or X-Forwarded-Host behind a trusted proxy, as Fastify's
 * `request.host` reads it), with the scheme's default port when the header names none; the
 * listening socket's address only when there is no Host at all (HTTP/1.0).
 */
function serverAddress(request: FastifyRequest): { 'server.address'?: string; 'server.port'?: number } {
  if (request.host !== '') {
    const port = request.port ?? (request.protocol === 'https' ? 443 : 80);
    return { 'server.address': request.hostname.replace(/^\[(.*)\]$/, '$1'), 'server.port': port };
  }
  const { localAddress, localPort } = request.socket;
  return localAddress === undefined ? {} : { 'server.address': localAddress, ...(localPort === undefined ? {} : { 'server.port': localPort }) };
}

function endServerSpan(request: FastifyRequest, reply?: FastifyReply): void {
  const span = serverSpans.get(request);
  if (!span) return;
  serverSpans.delete(request);
  if (reply) {
    span.setAttribute('http.response.status_code', reply.statusCode);
    // Server spans are errors on 5xx only; a 4xx is the client's mistake, answered correctly.
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  } else {
    span.setAttribute('error.type', 'request_aborted');
  }
  span.end();
}
