import { describe, expect, it } from 'vitest';
import { documentScores, pack } from '../src/index.js';

const row = (length: number, truncated: boolean, chunk?: number) => ({ ids: new Array(length).fill(1), typeIds: new Array(length).fill(0), truncated, chunk, chunkStart: chunk === undefined ? undefined : chunk * 10 });

describe('when rows are folded back to documents', () => {
  it('should sum each document\'s tokens over its chunks and mark it truncated when any chunk is', () => {
    // Document 0: one row; document 1: three chunks, the last cut; document 2: one cut row.
    const rows = pack([row(5, false), row(8, false, 0), row(8, false, 1), row(6, true, 2), row(4, true)]);
    const folded = documentScores(rows, new Float32Array([0.1, 0.2, 0.9, 0.3, -1]), 1);
    expect(folded.tokens).toEqual([5, 22, 4]);
    expect(folded.truncated).toEqual([false, true, true]);
    expect(folded.chunks.map((chunk) => chunk.index)).toEqual([0, 1, 0]);
    expect(folded.logits[1]).toBeCloseTo(0.9, 6);
  });
});
