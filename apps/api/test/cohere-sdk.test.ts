import type { Worker } from 'bullmq';
import { CohereClient, CohereClientV2 } from 'cohere-ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RerankJobData } from '@rerank-pool/contracts';
import { MODEL, createHarness, listenOnLoopback, startFixedScoreConsumer } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

let harness: Harness;
let consumer: Worker<RerankJobData>;
let baseUrl: string;

beforeAll(async () => {
  harness = await createHarness();
  consumer = startFixedScoreConsumer(harness.prefix);
  baseUrl = `http://127.0.0.1:${await listenOnLoopback(harness.app)}`;
});

afterAll(async () => {
  await consumer.close();
  await harness.close();
});

const documents = ['20 Carson City is the capital of Nevada.', '95 Washington, D.C. is the capital of the United States.', '60 Capital punishment'];

// Wire compatibility only: a test consumer returns scores fixed per document; scoring itself is
// proven with the real worker.
describe('when the official cohere-ai SDK calls the service over HTTP (wire format, fixed test scores)', () => {
  it('should parse a v1 rerank response with documents', async () => {
    const cohere = new CohereClient({ token: 'x', environment: baseUrl });
    const response = await cohere.rerank({ model: MODEL, query: 'capital of the US?', documents: [documents[0], { text: documents[1] }, documents[2]], topN: 2, returnDocuments: true });
    expect(response.results).toEqual([
      { index: 1, relevanceScore: 0.95, document: { text: documents[1] } },
      { index: 2, relevanceScore: 0.6, document: { text: documents[2] } },
    ]);
    expect(response.meta?.billedUnits?.searchUnits).toBe(1);
    expect(response.meta?.apiVersion?.version).toBe('1');
    expect(typeof response.id).toBe('string');
  });

  it('should parse a v2 rerank response', async () => {
    const cohere = new CohereClientV2({ token: 'x', environment: baseUrl });
    const response = await cohere.rerank({ model: MODEL, query: 'capital of the US?', documents, topN: 3, maxTokensPerDoc: 256, priority: 0 });
    expect(response.results).toEqual([
      { index: 1, relevanceScore: 0.95 },
      { index: 2, relevanceScore: 0.6 },
      { index: 0, relevanceScore: 0.2 },
    ]);
    expect(response.meta?.tokens?.inputTokens).toBe(30);
  });

  it('should surface our 4xx as the SDK error with our error body', async () => {
    const cohere = new CohereClientV2({ token: 'x', environment: baseUrl });
    const failure = await cohere.rerank({ model: 'nope/missing', query: 'q', documents }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ statusCode: 404, body: { error: { code: 'unknown_model' } } });
  });
});
