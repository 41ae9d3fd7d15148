import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRequestSchema, rerankV1RequestSchema, rerankV2RequestSchema, teiRerankRequestSchema } from '@rerank-pool/contracts';
import { createHarness } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

let harness: Harness;

beforeAll(async () => {
  harness = await createHarness();
});

afterAll(async () => {
  await harness.close();
});

describe('when the OpenAPI document is fetched', () => {
  it('should list every route, with the request schemas that validate requests', async () => {
    const response = await harness.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual(
      ['/healthz', '/readyz', '/health', '/info', '/rerank', '/v1/jobs', '/v1/jobs/{id}', '/v1/models', '/v1/rerank', '/v2/rerank', '/v1/batches', '/v1/batches/{id}', '/v1/batches/{id}/results'].sort(),
    );
    expect(Object.keys(doc.paths['/v1/jobs/{id}']).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(doc.paths['/v1/batches/{id}']).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(doc.paths['/v1/batches'].post.requestBody.content).sort()).toEqual(['application/json', 'application/x-ndjson']);
    const requestSchema = (path: string) => doc.paths[path].post.requestBody.content['application/json'].schema;
    expect(requestSchema('/v1/rerank')).toEqual(rerankV1RequestSchema);
    expect(requestSchema('/v2/rerank')).toEqual(rerankV2RequestSchema);
    expect(requestSchema('/rerank')).toEqual(teiRerankRequestSchema);
    expect(requestSchema('/v1/jobs')).toEqual(createJobRequestSchema);
  });
});
