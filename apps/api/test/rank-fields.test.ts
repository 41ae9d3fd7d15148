import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CohereClient } from 'cohere-ai';
import { postJson, startLiveService } from './helpers/live-service.js';
import type { LiveService } from './helpers/live-service.js';

/**
 * Cohere v1 object documents: `rank_fields` chooses which keys the model scores, rendered as
 * `key: value` lines in that order (one field: its value alone), and every document comes back
 * exactly as sent, extra keys included.
 */
let service: LiveService;

beforeAll(async () => {
  service = await startLiveService();
});

afterAll(() => service?.close());

const query = 'which paper is about reranking';
const documents = [
  { title: 'Cross-encoders for passage reranking', author: 'A. Writer', year: 2020, tags: ['ir', 'bert'] },
  { title: 'A history of bananas', author: 'B. Grower', year: 1999, tags: [] },
  { title: 'Queues at scale', author: 'C. Operator', year: 2024, tags: ['redis'], text: 'BullMQ workers and locks' },
];

/** Scores of plain string documents: what the model gives the texts a rendering should produce. */
async function scoresOf(texts: string[]): Promise<number[]> {
  const { status, body } = await postJson(service.base, '/v1/rerank', { model: service.modelId, query, documents: texts });
  expect(status).toBe(200);
  const scores: number[] = [];
  for (const result of body.results as { index: number; relevance_score: number }[]) scores[result.index] = result.relevance_score;
  return scores;
}

describe('when v1 documents are objects scored by rank_fields', () => {
  it('should score the named fields as key: value lines in order, and return each document as sent', async () => {
    const { status, body } = await postJson(service.base, '/v1/rerank', {
      model: service.modelId,
      query,
      documents,
      rank_fields: ['title', 'author'],
      return_documents: true,
    });
    expect(status).toBe(200);
    const expected = await scoresOf(documents.map((document) => `title: ${document.title}\nauthor: ${document.author}`));
    for (const result of body.results as { index: number; relevance_score: number; document: unknown }[]) {
      expect(result.relevance_score).toBeCloseTo(expected[result.index]!, 6);
      expect(result.document).toEqual(documents[result.index]);
    }
  });

  it('should score one named field as its value alone, and an object without rank_fields by its text', async () => {
    const single = await postJson(service.base, '/v1/rerank', { model: service.modelId, query, documents, rank_fields: ['title'] });
    expect(single.status).toBe(200);
    const titles = await scoresOf(documents.map((document) => document.title));
    for (const result of single.body.results as { index: number; relevance_score: number }[]) {
      expect(result.relevance_score).toBeCloseTo(titles[result.index]!, 6);
    }

    const withText = [{ text: 'a passage about reranking', source: 'wiki', rank: 3 }];
    const byText = await postJson(service.base, '/v1/rerank', { model: service.modelId, query, documents: withText, return_documents: true });
    expect(byText.status).toBe(200);
    expect(byText.body.results[0].relevance_score).toBeCloseTo((await scoresOf(['a passage about reranking']))[0]!, 6);
    expect(byText.body.results[0].document).toEqual(withText[0]);
  });

  it('should refuse a rank field a document lacks or holds as a non-string, naming it, and rank_fields on v2', async () => {
    const missing = await postJson(service.base, '/v1/rerank', { model: service.modelId, query, documents, rank_fields: ['title', 'text'] });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'invalid_request', field: 'documents[0].text' });
    const notString = await postJson(service.base, '/v1/rerank', { model: service.modelId, query, documents, rank_fields: ['year'] });
    expect(notString.status).toBe(400);
    expect(notString.body.error).toMatchObject({ code: 'invalid_request', field: 'documents[0].year' });
    expect(notString.body.error.message).toMatch(/must be a string/);
    const noText = await postJson(service.base, '/v1/rerank', { model: service.modelId, query, documents: [{ title: 'no text here' }] });
    expect(noText.status).toBe(400);
    expect(noText.body.error.field).toBe('documents[0].text');
    const v2 = await postJson(service.base, '/v2/rerank', { model: service.modelId, query, documents: ['a'], rank_fields: ['title'] });
    expect(v2.status).toBe(400);
    expect(v2.body.error.message).toMatch(/rank_fields/);
  });

  it("should work through the official cohere-ai v1 client's rankFields", async () => {
    const cohere = new CohereClient({ token: 'unused', environment: service.base });
    const answer = await cohere.rerank({
      model: service.modelId,
      query,
      documents: documents.map(({ title, author }) => ({ title, author })),
      rankFields: ['title', 'author'],
      returnDocuments: true,
    });
    const expected = await scoresOf(documents.map((document) => `title: ${document.title}\nauthor: ${document.author}`));
    for (const result of answer.results) {
      expect(result.relevanceScore).toBeCloseTo(expected[result.index]!, 6);
      expect(result.document).toEqual({ title: documents[result.index]!.title, author: documents[result.index]!.author });
    }
  });
});
