import { pairLength, type PackedPairs } from './packed-pairs.js';
import { rawScore, relevanceScore } from './scores.js';

/** Which chunk of a document scored best. */
export interface ChunkChoice {
  /** The winning chunk's index within its document (0-based). */
  index: number;
  /** How many chunks the document was scored as. */
  count: number;
  /** The winning chunk's first token within the document's tokens. */
  startToken: number;
}

export interface DocumentScores {
  /** Relevance score per document: the transform of its best chunk's raw score. */
  scores: number[];
  /** Raw score (logit, or two-label margin) per document: the maximum over its chunks. */
  logits: number[];
  /** The winning chunk per document. */
  chunks: ChunkChoice[];
  /** Tokens per document over all its rows (chunks), special tokens included: what it bills. */
  tokens: number[];
  /** Per document, whether any of its rows was cut to fit the model's window. */
  truncated: boolean[];
}

/**
 * Folds per-row logits back to documents: a document's rows are consecutive (`chunk` 0 starts
 * one) and it scores as its best row, by raw score first and then through the relevance
 * transform, which is monotonic, so the best chunk is the same either way. A document of one row
 * gets that row's numbers unchanged, bit for bit.
 */
export function documentScores(rows: PackedPairs, logits: Float32Array, numLabels: number): DocumentScores {
  const scores: number[] = [];
  const raw: number[] = [];
  const chunks: ChunkChoice[] = [];
  const tokens: number[] = [];
  const truncated: boolean[] = [];
  let best = -1;
  const finish = (): void => {
    if (best < 0) return;
    scores.push(relevanceScore(logits, numLabels, best));
    raw.push(rawScore(logits, numLabels, best));
  };
  for (let row = 0; row < rows.count; row++) {
    if (rows.chunk[row] === 0) {
      finish();
      best = row;
      chunks.push({ index: 0, count: 0, startToken: rows.chunkStart[row]! });
      tokens.push(0);
      truncated.push(false);
    } else if (rawScore(logits, numLabels, row) > rawScore(logits, numLabels, best)) {
      best = row;
      const choice = chunks[chunks.length - 1]!;
      choice.index = rows.chunk[row]!;
      choice.startToken = rows.chunkStart[row]!;
    }
    const document = chunks.length - 1;
    chunks[document]!.count++;
    tokens[document]! += pairLength(rows, row);
    if (rows.truncated[row]) truncated[document] = true;
  }
  finish();
  return { scores, logits: raw, chunks, tokens, truncated };
}
