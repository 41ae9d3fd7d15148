import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '@rerank-pool/config';
import { errorBodySchema, teiErrorBodySchema } from '@rerank-pool/contracts';
import type { RerankMetrics } from '@rerank-pool/telemetry';
import type { ModelRegistry } from './model-registry.js';
import type { RerankService } from './rerank-service.js';

/** What every route plugin is given: the app's shared resources, created once in buildApi. */
export interface RouteDeps {
  config: Config;
  registry: ModelRegistry;
  service: RerankService;
  /** Where routes observe what only they see whole: the signals of a synchronous rerank. */
  metrics: RerankMetrics;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook from the API key; `default` when API_KEYS is unset. */
    tenant: string;
  }
  interface FastifyContextConfig {
    /** Served without an API key (health, readiness, the OpenAPI document). */
    public?: boolean;
    /** A Hugging Face TEI route: errors answer in TEI's `{error, error_type}` with its statuses. */
    tei?: boolean;
  }
}

/** Error responses every route documents. */
export const errorResponses = { '4xx': errorBodySchema, '5xx': errorBodySchema } as const;

/** Error responses of the TEI routes (`config.tei`): TEI's body. */
export const teiErrorResponses = { '4xx': teiErrorBodySchema, '5xx': teiErrorBodySchema } as const;

/** The W3C trace context of the request, carried in the job for the tracing issue. */
export function traceCarrier(headers: IncomingHttpHeaders): Record<string, string> | undefined {
  const carrier: Record<string, string> = {};
  for (const name of ['traceparent', 'tracestate']) {
    const value = headers[name];
    if (typeof value === 'string') carrier[name] = value;
  }
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}
