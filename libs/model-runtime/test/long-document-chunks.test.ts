import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_OVERLAP_FRACTION, chunkStarts, InferencePool, PairEncoder } from '@rerank-pool/model-runtime';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { pairEncoderOf, withSyntheticModel } from './support/tiny-model.js';

/**
 * Cohere's max_chunks_per_doc: a document longer than the window is scored as overlapping chunks,
 * one pair row each, and scores as its best chunk.
 *
 * What the synthetic model can prove: its weights are random, so "relevant" here means what it
 * scores highest. The constructed case takes the passage it scores highest for the query, puts it
 * after a filler whose length is chosen so that the document's last chunk is exactly that passage,
 * and shows the chunked document ranks first with exactly the passage's own score, while
 * truncation, which never reads past the filler, ranks it below passages chunking beats.
 */
describe('when a document is longer than the window', () => {
  let model: Awaited<ReturnType<typeof withSyntheticModel>>;
  let encoder: PairEncoder;
  let pool: InferencePool;
  const MAX_LENGTH = 128;
  const rng = createRng(42);
  const query = 'how are long documents scored by a reranker';

  beforeAll(async () => {
    model = await withSyntheticModel('tiny');
    encoder = pairEncoderOf(model.dir, MAX_LENGTH);
    pool = await InferencePool.open({ modelDir: model.dir, threads: 1, maxLength: MAX_LENGTH });
  });
  afterAll(async () => {
    await pool?.close();
    await model?.cleanup();
  });

  it('should place windows a quarter apart in overlap, cover the document, and stop at the cap', () => {
    const window = 100;
    const stride = window - Math.floor(window * CHUNK_OVERLAP_FRACTION);
    expect(chunkStarts(250, window, 8, 'right')).toEqual([0, stride, 2 * stride]);
    expect(chunkStarts(250, window, 2, 'right')).toEqual([0, stride]);
    expect(chunkStarts(250, window, 8, 'left')).toEqual([0, 250 - window - stride, 250 - window]);
    expect(chunkStarts(250, window, 1, 'left')).toEqual([150]);
    expect(chunkStarts(100, window, 8, 'right')).toEqual([0]);
  });

  it('should leave documents that fit, and every document with chunking off, exactly as truncation encodes them', () => {
    const documents = ['a short passage', syntheticText(rng, 60), syntheticText(rng, 400)];
    const plain = encoder.encode(query, documents);
    const chunked = encoder.encode(query, documents, { maxChunksPerDoc: 8 });
    expect(chunked[0]).toEqual(plain[0]);
    expect(chunked[1]).toEqual(plain[1]);
    expect(encoder.encode(query, documents, { maxChunksPerDoc: 1 })).toEqual(plain);
    // The long one: chunk 0 is the row truncation keeps, the others continue it.
    const rows = chunked.slice(2);
    expect(rows.length).toBeGreaterThan(1);
    expect(rows[0]).toEqual({ ...plain[2], truncated: false, chunk: 0, chunkStart: 0 });
    expect(rows.map((row) => row.chunk)).toEqual(rows.map((_, i) => i));
    for (const row of rows) expect(row.ids.length).toBeLessThanOrEqual(MAX_LENGTH);
    // The chunks cover the document, each starting a stride after the last.
    const docIds = encoder.tokenize(documents[2]!);
    const window = rows[0]!.ids.length - encoder.tokenize(query).length - encoder.specialTokens;
    expect(rows.map((row) => row.chunkStart)).toEqual(chunkStarts(docIds.length, window, 8, 'right'));
    expect(rows.at(-1)!.chunkStart! + window).toBeGreaterThanOrEqual(docIds.length);
    // Capped below what covers it, the document is truncated after its last chunk.
    const capped = encoder.encode(query, [documents[2]!], { maxChunksPerDoc: 2 });
    expect(capped).toHaveLength(2);
    expect(capped.every((row) => row.truncated)).toBe(true);
    // From the left, the last chunk is the row truncation from the left keeps.
    const [leftPlain] = encoder.encode(query, [documents[2]!], { truncationDirection: 'left' });
    const left = encoder.encode(query, [documents[2]!], { truncationDirection: 'left', maxChunksPerDoc: 8 });
    expect(left.at(-1)!.ids).toEqual(leftPlain!.ids);
  });

  it('should find a relevant passage at the end of a long document that truncation loses', async () => {
    // The passage the model scores highest for the query among 40 is "the relevant one".
    const candidates = Array.from({ length: 40 }, () => syntheticText(rng, 30 + Math.floor(rng() * 15)));
    const alone = await pool.score(query, candidates);
    const order = alone.logits.map((logit, i) => ({ logit, i })).sort((a, b) => b.logit - a.logit);
    const relevant = candidates[order[0]!.i]!;
    const distractors = order.slice(1, 6).map(({ i }) => candidates[i]!);
    // A filler of single-token words, so its token count is its word count: three strides long,
    // the fourth chunk is then exactly the relevant passage.
    const window = MAX_LENGTH - encoder.specialTokens - encoder.tokenize(query).length;
    const stride = window - Math.floor(window * CHUNK_OVERLAP_FRACTION);
    const relevantTokens = encoder.tokenize(relevant).length;
    expect(relevantTokens).toBeGreaterThan(window - stride);
    expect(relevantTokens).toBeLessThanOrEqual(window);
    const words = syntheticText(rng, 2000).toLowerCase().replace(/[.,]/g, '').split(' ').filter((word) => encoder.tokenize(word).length === 1);
    const filler = words.slice(0, 3 * stride).join(' ');
    expect(encoder.tokenize(filler)).toHaveLength(3 * stride);
    const longDocument = `${filler} ${relevant}`;
    const documents = [...distractors, longDocument];
    const long = documents.length - 1;

    const chunked = await pool.score(query, documents, { maxChunksPerDoc: 8 });
    const truncated = await pool.score(query, documents, { maxChunksPerDoc: 1 });
    const rank = (logits: number[]) => logits.map((logit, i) => ({ logit, i })).sort((a, b) => b.logit - a.logit).findIndex(({ i }) => i === long);
    expect(chunked.chunks[long]).toEqual({ index: 3, count: 4, startToken: 3 * stride });
    // The winning chunk is (query, relevant passage) exactly: its score is the passage's own.
    expect(Math.abs(chunked.logits[long]! - order[0]!.logit)).toBeLessThanOrEqual(1e-4);
    expect(rank(chunked.logits)).toBe(0);
    expect(rank(truncated.logits)).toBeGreaterThan(0);
    expect(truncated.chunks[long]).toEqual({ index: 0, count: 1, startToken: 0 });
    expect(chunked.truncated).toEqual([]);
    expect(truncated.truncated).toEqual([long]);
    // Every chunk is billed: 4 rows of the long document instead of 1.
    expect(chunked.inputTokens).toBeGreaterThan(truncated.inputTokens);
    // Documents that fit score bit for bit the same with chunking on and off.
    for (let i = 0; i < long; i++) {
      expect(chunked.logits[i]).toBe(truncated.logits[i]);
      expect(chunked.scores[i]).toBe(truncated.scores[i]);
    }
  });
});
