import type { RunEntry } from './trec-formats.js';

/**
 * Byte-wise string order, i.e. C's strcmp on UTF-8, which is what trec_eval uses. JavaScript's
 * `<` compares UTF-16 code units instead; the two agree except that surrogates (code points
 * above U+FFFF) sort before U+E000-U+FFFF in UTF-16 and after them in UTF-8. Shifting the
 * ranges fixes that without encoding every id to bytes.
 */
export function compareByteOrder(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

function utf8Rank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/**
 * trec_eval's ranking order (form_res_rels.c, `comp_sim_docno`): score descending, and among
 * equal scores the document id that is greater by strcmp first, i.e. docid *descending*. The
 * rank column of the run file plays no part. Scores are compared as doubles, as trec_eval 9
 * reads them (versions before 9 stored floats, which could create ties doubles do not have).
 */
export function compareTrecOrder(a: RunEntry, b: RunEntry): number {
  if (a.score !== b.score) return a.score > b.score ? -1 : 1;
  return compareByteOrder(b.docid, a.docid);
}

/** Document ids of one query's results in the order trec_eval evaluates them. */
export function rankEntries(entries: readonly RunEntry[]): string[] {
  return [...entries].sort(compareTrecOrder).map((entry) => entry.docid);
}
