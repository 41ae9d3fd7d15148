import { EvalError, malformedLine } from './eval-error.js';
import { readNumberedLines } from './line-reader.js';

/** Judgments: query id -> document id -> graded relevance (trec_eval reads it with atol). */
export type Qrels = Map<string, Map<string, number>>;

export interface QrelsLine {
  qid: string;
  docid: string;
  rel: number;
}

/** One line of a TREC run file: `qid Q0 docid rank score tag`. */
export interface RunLine {
  qid: string;
  docid: string;
  /** As written in the file. trec_eval ignores it and ranks by score; so does `rankEntries`. */
  rank: number;
  score: number;
  tag: string;
}

export interface RunEntry {
  docid: string;
  score: number;
}

/** Retrieved documents per query id, in file order (rank them with `rankEntries`). */
export type Run = Map<string, RunEntry[]>;

const INTEGER = /^[+-]?\d+$/;
// Plain decimal or exponent notation, what atof() accepts minus hex, inf and nan, which in a run
// file are always a bug upstream rather than a score anyone meant.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function fields(text: string): string[] {
  return text.trim().split(/\s+/);
}

/**
 * Reads a qrels file (`qid iter docid rel`, whitespace-separated). Lines starting with `#`
 * are comments, as in trec_eval. A document judged twice for one query is an error there and here.
 */
export async function readQrels(file: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  for await (const { text, number } of readNumberedLines(file)) {
    if (text.trimStart().startsWith('#')) continue;
    const parts = fields(text);
    if (parts.length !== 4) throw malformedLine(file, number, `expected 4 fields "qid iter docid rel", found ${parts.length}`);
    const [qid, , docid, rel] = parts as [string, string, string, string];
    if (!INTEGER.test(rel)) throw malformedLine(file, number, `relevance must be an integer, got "${rel}"`);
    let judged = qrels.get(qid);
    if (!judged) qrels.set(qid, (judged = new Map()));
    if (judged.has(docid)) {
      throw new EvalError('EVAL_DUPLICATE_ENTRY', `${file}:${number}: document "${docid}" is judged twice for query "${qid}"`, { file, line: number });
    }
    judged.set(docid, Number(rel));
  }
  return qrels;
}

/** Streams a run file line by line without holding it; `readRun` collects and checks it. */
export async function* streamRun(file: string): AsyncGenerator<RunLine & { line: number }> {
  for await (const { text, number } of readNumberedLines(file)) {
    const parts = fields(text);
    if (parts.length !== 6) throw malformedLine(file, number, `expected 6 fields "qid Q0 docid rank score tag", found ${parts.length}`);
    const [qid, , docid, rank, score, tag] = parts as [string, string, string, string, string, string];
    if (!INTEGER.test(rank)) throw malformedLine(file, number, `rank must be an integer, got "${rank}"`);
    // The pattern alone lets "1e999" through as Infinity, which would tie with any other overflow.
    const value = DECIMAL.test(score) ? Number(score) : Number.NaN;
    if (!Number.isFinite(value)) throw malformedLine(file, number, `score must be a finite number, got "${score}"`);
    yield { qid, docid, rank: Number(rank), score: value, tag, line: number };
  }
}

/**
 * Reads a whole run file. Lines of one query need not be contiguous. A document listed twice
 * for one query is rejected, as trec_eval does: its rank would be ambiguous.
 */
export async function readRun(file: string): Promise<Run> {
  const run: Run = new Map();
  const seen = new Map<string, Set<string>>();
  for await (const { qid, docid, score, line } of streamRun(file)) {
    let docids = seen.get(qid);
    if (!docids) {
      seen.set(qid, (docids = new Set()));
      run.set(qid, []);
    }
    if (docids.has(docid)) {
      throw new EvalError('EVAL_DUPLICATE_ENTRY', `${file}:${line}: document "${docid}" appears twice for query "${qid}"`, { file, line });
    }
    docids.add(docid);
    run.get(qid)!.push({ docid, score });
  }
  return run;
}

function checkToken(what: string, value: string): string {
  if (value === '' || /\s/.test(value)) {
    throw new EvalError('EVAL_BAD_VALUE', `${what} "${value}" cannot be written to a TREC file: it must be non-empty without whitespace`);
  }
  return value;
}

export function formatQrelsLine(line: QrelsLine): string {
  if (!Number.isInteger(line.rel)) throw new EvalError('EVAL_BAD_VALUE', `relevance must be an integer, got ${line.rel}`);
  return `${checkToken('query id', line.qid)} 0 ${checkToken('document id', line.docid)} ${line.rel}`;
}

export function formatRunLine(line: RunLine): string {
  if (!Number.isInteger(line.rank)) throw new EvalError('EVAL_BAD_VALUE', `rank must be an integer, got ${line.rank}`);
  if (!Number.isFinite(line.score)) throw new EvalError('EVAL_BAD_VALUE', `score must be finite, got ${line.score}`);
  // String(score) is the shortest text that reads back to the same double, so re-reading a
  // written run can never turn two different scores into a tie.
  return `${checkToken('query id', line.qid)} Q0 ${checkToken('document id', line.docid)} ${line.rank} ${String(line.score)} ${checkToken('run tag', line.tag)}`;
}
