import { CohereClient } from 'cohere-ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { ndjson, readResults, waitForBatch } from './helpers/batches.js';
import { postJson, startLiveService } from './helpers/live-service.js';
import type { LiveService } from './helpers/live-service.js';

/**
 * max_chunks_per_doc end to end, with a real worker (synthetic tiny model, 512-token window): the
 * option reaches the worker from every route, a long document is scored as its best chunk and
 * each result says which, documents that fit score bit for bit as without it, and the cap holds.
 */
const rng = createRng(5);
const query = 'which part of a long document matters';
const long = syntheticText(rng, 1200);
const documents = [syntheticText(rng, 30), long, syntheticText(rng, 50)];

let service: LiveService;

beforeAll(async () => {
  service = await startLiveService();
});

afterAll(() => service?.close());

async function rerank(path: string, body: Record<string, unknown>) {
  return postJson(service.base, path, { query, documents, ...body });
}

function byIndex<T extends { index: number }>(results: T[]): T[] {
  return [...results].sort((a, b) => a.index - b.index);
}

describe('when a request asks for max_chunks_per_doc', () => {
  it('should score the long document by chunks, say which chunk won, and leave documents that fit bit for bit', async () => {
    const plain = await rerank('/v1/rerank', {});
    const chunked = await rerank('/v1/rerank', { max_chunks_per_doc: 8 });
    expect(plain.status).toBe(200);
    expect(chunked.status).toBe(200);
    expect(plain.body.results.every((result: object) => !('chunk' in result))).toBe(true);
    const [short1, longResult, short2] = byIndex(chunked.body.results as { index: number; relevance_score: number; chunk: { index: number; count: number; start_token: number } }[]);
    const [plain1, plainLong, plain2] = byIndex(plain.body.results as { index: number; relevance_score: number }[]);
    expect(short1!.chunk).toEqual({ index: 0, count: 1, start_token: 0 });
    expect(short2!.chunk).toEqual({ index: 0, count: 1, start_token: 0 });
    expect(short1!.relevance_score).toBe(plain1!.relevance_score);
    expect(short2!.relevance_score).toBe(plain2!.relevance_score);
    expect(longResult!.chunk.count).toBeGreaterThan(1);
    expect(longResult!.chunk.index).toBeLessThan(longResult!.chunk.count);
    // Chunk 0 is the row truncation scores, so the best chunk can only do as well or better.
    expect(longResult!.relevance_score).toBeGreaterThanOrEqual(plainLong!.relevance_score);
    // Every chunk is billed.
    expect(chunked.body.meta.tokens.input_tokens).toBeGreaterThan(plain.body.meta.tokens.input_tokens);
  });

  it('should answer as truncation does for 1 and for the null the Cohere SDKs send, and refuse 0 or more than MAX_CHUNKS_PER_DOC', async () => {
    const plain = await rerank('/v2/rerank', {});
    expect((await rerank('/v2/rerank', { max_chunks_per_doc: 1 })).body.results).toEqual(plain.body.results);
    expect((await rerank('/v1/rerank', { max_chunks_per_doc: null })).body.results).toEqual(plain.body.results);
    expect((await rerank('/v2/rerank', { max_chunks_per_doc: 3 })).body.results[0].chunk).toBeDefined();
    for (const bad of [0, service.config.maxChunksPerDoc + 1, 2.5]) {
      const refused = await rerank('/v2/rerank', { max_chunks_per_doc: bad });
      expect(refused.status).toBe(400);
      expect(refused.body.error.field).toBe('max_chunks_per_doc');
    }
  });

  it('should let the cohere-ai SDK send maxChunksPerDoc and parse the response', async () => {
    const cohere = new CohereClient({ token: 'x', environment: service.base });
    const response = await cohere.rerank({ query, documents, maxChunksPerDoc: 4 });
    expect(response.results).toHaveLength(3);
    expect(response.results.map((result) => result.index).sort()).toEqual([0, 1, 2]);
  });

  it('should take it on TEI /rerank, where chunks that cover a text mean it is not truncated', async () => {
    const refused = await postJson(service.base, '/rerank', { query, texts: documents });
    expect(refused.status).toBe(422);
    const covered = await postJson(service.base, '/rerank', { query, texts: documents, max_chunks_per_doc: 8 });
    expect(covered.status).toBe(200);
    const longRank = covered.body.find((rank: { index: number }) => rank.index === 1);
    expect(longRank.chunk.count).toBeGreaterThan(1);
    // Too few chunks to cover it: still too long for truncate: false.
    expect((await postJson(service.base, '/rerank', { query, texts: documents, max_chunks_per_doc: 2 })).status).toBe(422);
  });

  it('should take it on /v1/jobs and on batch lines, and report the chunk in their results', async () => {
    const accepted = await postJson(service.base, '/v1/jobs', { query, documents, max_chunks_per_doc: 8 });
    expect(accepted.status).toBe(202);
    let job: any;
    for (let i = 0; i < 200; i++) {
      job = await (await fetch(`${service.base}/v1/jobs/${accepted.body.id}`)).json();
      if (job.status === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(job.status).toBe('completed');
    expect(byIndex(job.result.results)[1]!.chunk.count).toBeGreaterThan(1);

    const upload = await service.app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: ndjson([{ id: 'chunked', query, documents, max_chunks_per_doc: 8 }, { id: 'plain', query, documents }]),
    });
    expect(upload.statusCode).toBe(202);
    await waitForBatch(service.app, upload.json().id);
    const lines = await readResults(service.app, upload.json().id);
    const chunkedLine = lines.find((line) => line.id === 'chunked');
    const plainLine = lines.find((line) => line.id === 'plain');
    expect(byIndex(chunkedLine.results)[1].chunk.count).toBeGreaterThan(1);
    expect(plainLine.results.every((result: object) => !('chunk' in result))).toBe(true);
  });
});
