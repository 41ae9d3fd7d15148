import { describe, expect, it } from 'vitest';
import { compareByteOrder, rankEntries } from '@rerank-pool/eval';

describe('when documents tie on score', () => {
  it('should put the greater docid by strcmp first, as trec_eval comp_sim_docno does', () => {
    // strcmp order: "d1" < "d10" < "d9"; descending gives d9, d10, d1. Input order plays no part.
    expect(rankEntries([{ docid: 'd1', score: 1 }, { docid: 'd9', score: 1 }, { docid: 'd10', score: 1 }])).toEqual(['d9', 'd10', 'd1']);
    expect(rankEntries([{ docid: 'd10', score: 1 }, { docid: 'd1', score: 1 }, { docid: 'd9', score: 1 }])).toEqual(['d9', 'd10', 'd1']);
  });

  it('should rank by score before docid, including negative scores', () => {
    const entries = [
      { docid: 'a', score: -1 },
      { docid: 'z', score: -2 },
      { docid: 'b', score: 0.5 },
      { docid: 'y', score: 0.5 },
    ];
    expect(rankEntries(entries)).toEqual(['y', 'b', 'a', 'z']);
  });

  it('should not merge scores that differ only beyond float precision', () => {
    // trec_eval 9 reads scores as doubles: 0.1 and 0.1 + 1e-12 are different scores, not a tie.
    expect(rankEntries([{ docid: 'z', score: 0.1 }, { docid: 'a', score: 0.1 + 1e-12 }])).toEqual(['a', 'z']);
  });

  it('should compare ids as UTF-8 bytes, not UTF-16 code units', () => {
    const ids = ['z', 'é', '\uff01', '\u{1f600}', 'Z', 'doc-1', 'doc_1', ''];
    const byBytes = [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...ids].sort(compareByteOrder)).toEqual(byBytes);
    // The case where the two orders differ: U+1F600 is a surrogate pair in UTF-16 and sorts below
    // U+FF01 there, but its UTF-8 lead byte F0 is above EF.
    expect('\u{1f600}' < '\uff01').toBe(true);
    expect(compareByteOrder('\u{1f600}', '\uff01')).toBeGreaterThan(0);
  });
});
