import type { FastifyRequest, FastifyServerOptions } from 'fastify';

/** Query parameters that carry credentials in some client or another; compared case-insensitively. */
const SECRET_PARAMETERS = new Set(['api_key', 'apikey', 'api-key', 'key', 'token', 'access_token', 'secret', 'password']);

export const REDACTED_VALUE = '[REDACTED]';

function parameterName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

/**
 * The URL with the values of credential-bearing query parameters replaced, for logs: API keys go
 * in the Authorization header, but clients that put one in `?api_key=` must not find it in the
 * operator's logs. The path and other parameters stay as they were sent.
 */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
  const pairs = url.slice(queryStart + 1).split('&');
  const redacted = pairs.map((pair) => {
    const equals = pair.indexOf('=');
    const name = equals === -1 ? pair : pair.slice(0, equals);
    return SECRET_PARAMETERS.has(parameterName(name)) ? `${name}=${REDACTED_VALUE}` : pair;
  });
  return `${url.slice(0, queryStart)}?${redacted.join('&')}`;
}

/**
 * pino serializers of the API's request log lines: Fastify's own `req` fields with the URL
 * redacted. Headers are never serialized, so `Authorization` never reaches a log line.
 */
export const requestLogSerializers = {
  req(request: FastifyRequest) {
    return {
      method: request.method,
      url: redactUrl(request.url),
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort,
    };
  },
};

/** Fastify's `logger` option (when a caller gives one) with the serializers above taking the `req` field. */
export function withRequestLogSerializers(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === true) return { serializers: requestLogSerializers };
  if (typeof logger === 'object' && logger !== null) return { ...logger, serializers: { ...logger.serializers, ...requestLogSerializers } };
  return logger;
}
