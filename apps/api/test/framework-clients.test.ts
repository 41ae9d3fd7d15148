import { CohereRerank as LangChainCohereRerank } from '@langchain/cohere';
import { Document } from '@langchain/core/documents';
import { CohereRerank as LlamaIndexCohereRerank } from '@llamaindex/cohere';
import { TextNode } from '@llamaindex/core/schema';
import { CohereClient } from 'cohere-ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { postJson, startLiveService } from './helpers/live-service.js';
import type { LiveService } from './helpers/live-service.js';

/**
 * The model names the frameworks send when the caller names none, or that their docs show:
 * LlamaIndex.TS's CohereRerank defaults to rerank-english-v2.0 (as LangChain Python's legacy one
 * did); LangChain.js's has none (it throws without one), so callers name Cohere's, e.g. rerank-v3.5.
 */
const ALIASES = ['rerank-english-v2.0', 'rerank-v3.5'];
const rng = createRng(7);
const query = 'which passage ranks first';
const documents = Array.from({ length: 8 }, () => syntheticText(rng, 5 + Math.floor(rng() * 40)));

type LangChainClient = NonNullable<ConstructorParameters<typeof LangChainCohereRerank>[0]>['client'];

let service: LiveService;

beforeAll(async () => {
  service = await startLiveService({ env: { RERANK_MODEL_ALIASES: ALIASES.map((alias) => `${alias}=synthetic-tiny`).join(',') } });
});

afterAll(() => service?.close());

/** The service's own ranking of `documents` for `query`, asked by served model id. */
async function ownRanking(): Promise<{ index: number; relevance_score: number }[]> {
  const { status, body } = await postJson(service.base, '/v1/rerank', { model: service.modelId, query, documents });
  expect(status).toBe(200);
  return body.results;
}

function expectSameRanking(actual: { index: number; score: number }[], expected: { index: number; relevance_score: number }[]): void {
  expect(actual.map((result) => result.index)).toEqual(expected.slice(0, actual.length).map((result) => result.index));
  for (const [rank, result] of actual.entries()) expect(result.score).toBeCloseTo(expected[rank]!.relevance_score, 6);
}

describe('when LangChain and LlamaIndex rerank through the service with their default model names (RERANK_MODEL_ALIASES)', () => {
  it('should list the aliases with the model that answers them', async () => {
    const models = (await (await fetch(`${service.base}/v1/models`)).json()) as { data: unknown[] };
    expect(models.data).toEqual([expect.objectContaining({ id: service.modelId, aliases: ALIASES })]);
  });

  it("should rank like /v1/rerank for LangChain's CohereRerank.rerank and compressDocuments", async () => {
    const expected = await ownRanking();
    // @langchain/cohere brings its own cohere-ai 7; this repository's is 8 (same rerank call, but
    // TypeScript sees two unrelated classes). A user with only @langchain/cohere imports its 7.
    const client = new CohereClient({ token: 'unused', environment: service.base }) as unknown as LangChainClient;
    const reranker = new LangChainCohereRerank({ client, model: 'rerank-english-v2.0', topN: 5 });

    const ranked = await reranker.rerank(documents, query, { topN: documents.length });
    expectSameRanking(ranked.map((result) => ({ index: result.index, score: result.relevanceScore })), expected);

    const compressed = await reranker.compressDocuments(documents.map((text, index) => new Document({ pageContent: text, metadata: { index } })), query);
    expect(compressed).toHaveLength(5);
    expectSameRanking(compressed.map((doc) => ({ index: doc.metadata.index, score: doc.metadata.relevanceScore })), expected);
  });

  it("should rank like /v1/rerank for LlamaIndex's CohereRerank with its default model", async () => {
    const expected = await ownRanking();
    const reranker = new LlamaIndexCohereRerank({ apiKey: 'unused', baseUrl: service.base, topN: 3 });
    expect(reranker.model).toBe('rerank-english-v2.0');
    const nodes = documents.map((text, index) => ({ node: new TextNode({ text, id_: `doc-${index}` }), score: 0 }));
    const ranked = await reranker.postprocessNodes(nodes, query);
    expect(ranked).toHaveLength(3);
    expectSameRanking(ranked.map((result) => ({ index: nodes.findIndex((n) => n.node === result.node), score: result.score! })), expected);
  });

  it('should answer an alias with the served model named in meta.model, and 404 a name that is neither', async () => {
    const aliased = await postJson(service.base, '/v2/rerank', { model: 'rerank-v3.5', query, documents });
    expect(aliased.status).toBe(200);
    expect(aliased.body.meta.model).toBe(service.modelId);
    const unknown = await postJson(service.base, '/v2/rerank', { model: 'rerank-multilingual-v3.0', query, documents });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown_model');
  });
});

describe('when a Cohere SDK sends max_chunks_per_doc', () => {
  it('should take the null the SDKs send when it is unset as the default, honour a number within MAX_CHUNKS_PER_DOC and refuse one above it', async () => {
    const body = { model: 'rerank-english-v2.0', query, documents };
    const unset = await postJson(service.base, '/v1/rerank', { ...body, max_chunks_per_doc: null });
    expect(unset.status).toBe(200);
    expect(unset.body.results[0].chunk).toBeUndefined();
    const chunked = await postJson(service.base, '/v1/rerank', { ...body, max_chunks_per_doc: 2 });
    expect(chunked.status).toBe(200);
    expect(chunked.body.results[0].chunk).toMatchObject({ index: expect.any(Number), count: expect.any(Number) });
    const overCap = await postJson(service.base, '/v1/rerank', { ...body, max_chunks_per_doc: 9 });
    expect(overCap.status).toBe(400);
    expect(overCap.body.error.field).toBe('max_chunks_per_doc');
  });
});
