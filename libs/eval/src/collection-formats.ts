import { EvalError, malformedLine } from './eval-error.js';
import { readNumberedLines } from './line-reader.js';

/** `tsv`: `id<TAB>text`; `jsonl`: one JSON object per line. */
export type CollectionFormat = 'tsv' | 'jsonl';

export interface CollectionReadOptions {
  /** Default: decided by the first non-blank line (`{` means jsonl). */
  format?: CollectionFormat;
}

export interface Topic {
  qid: string;
  query: string;
}

export interface CorpusDocument {
  docid: string;
  /** The passage as the cross-encoder sees it: `title text` when the corpus has titles. */
  text: string;
}

export interface CorpusReadOptions extends CollectionReadOptions {
  /**
   * Keep only these documents. A run's candidates are a small part of most corpora, so this is
   * what keeps `readCorpus` within memory on MS MARCO-sized collections.
   */
  docids?: ReadonlySet<string>;
}

type Row = Record<string, unknown>;

/** A parsed line of either layout; `line` is 1-based for messages. */
type ParsedLine = { line: number; tsv: { id: string; text: string } } | { line: number; json: Row };

async function* parsedLines(file: string, options: CollectionReadOptions): AsyncGenerator<ParsedLine> {
  let format = options.format;
  for await (const { text, number } of readNumberedLines(file)) {
    format ??= text.trimStart().startsWith('{') ? 'jsonl' : 'tsv';
    if (format === 'tsv') {
      const parts = text.split('\t');
      if (parts.length !== 2) throw malformedLine(file, number, `expected 2 tab-separated fields "id<TAB>text", found ${parts.length}`);
      const id = parts[0]!.trim();
      if (id === '') throw malformedLine(file, number, 'empty id');
      yield { line: number, tsv: { id, text: parts[1]! } };
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw malformedLine(file, number, `invalid JSON (${(error as Error).message})`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw malformedLine(file, number, 'expected a JSON object');
    yield { line: number, json: json as Row };
  }
}

/** The first of `keys` present on the row, as a string; ids may be numbers in the wild (BEIR). */
function pick(row: Row, keys: readonly string[], kind: 'id' | 'text'): string | undefined {
  for (const key of keys) {
    const value = row[key];
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') return value;
    if (kind === 'id' && typeof value === 'number' && Number.isFinite(value)) return String(value);
    return undefined;
  }
  return undefined;
}

function required(file: string, line: number, row: Row, keys: readonly string[], kind: 'id' | 'text'): string {
  const value = pick(row, keys, kind);
  if (value === undefined || (kind === 'id' && value.trim() === '')) {
    throw malformedLine(file, line, `expected a ${kind === 'id' ? 'non-empty string or number' : 'string'} in ${keys.map((k) => `"${k}"`).join(' or ')}`);
  }
  return value;
}

/** Streams topics: TSV `qid<TAB>query` or JSONL `{id|qid, query|text}`. */
export async function* streamTopics(file: string, options: CollectionReadOptions = {}): AsyncGenerator<Topic & { line: number }> {
  for await (const parsed of parsedLines(file, options)) {
    if ('tsv' in parsed) {
      yield { qid: parsed.tsv.id, query: parsed.tsv.text, line: parsed.line };
    } else {
      const qid = required(file, parsed.line, parsed.json, ['id', 'qid'], 'id');
      yield { qid, query: required(file, parsed.line, parsed.json, ['query', 'text'], 'text'), line: parsed.line };
    }
  }
}

/** All topics as query id -> query text; a query id given twice is an error. */
export async function readTopics(file: string, options: CollectionReadOptions = {}): Promise<Map<string, string>> {
  const topics = new Map<string, string>();
  for await (const { qid, query, line } of streamTopics(file, options)) {
    if (topics.has(qid)) throw new EvalError('EVAL_DUPLICATE_ENTRY', `${file}:${line}: query "${qid}" is listed twice`, { file, line });
    topics.set(qid, query);
  }
  return topics;
}

/** Streams a corpus: TSV `docid<TAB>text` or JSONL `{id|_id|docid, text|contents, title?}`. */
export async function* streamCorpus(file: string, options: CollectionReadOptions = {}): AsyncGenerator<CorpusDocument & { line: number }> {
  for await (const parsed of parsedLines(file, options)) {
    if ('tsv' in parsed) {
      yield { docid: parsed.tsv.id, text: parsed.tsv.text, line: parsed.line };
      continue;
    }
    const { json, line } = parsed;
    const docid = required(file, line, json, ['id', '_id', 'docid'], 'id');
    const body = required(file, line, json, ['text', 'contents'], 'text');
    if (json.title !== undefined && json.title !== null && typeof json.title !== 'string') throw malformedLine(file, line, '"title" must be a string');
    const title = ((json.title as string | null | undefined) ?? '').trim();
    // BEIR-style corpora keep the title apart; the cross-encoder should read both, as the
    // sentence-transformers rerankers were evaluated on them.
    yield { docid, text: title === '' ? body : body === '' ? title : `${title} ${body}`, line };
  }
}

/**
 * Documents as docid -> text, optionally only those in `options.docids`. Duplicates are
 * checked among the kept documents only: remembering every id of a large corpus would cost
 * the memory that the filter exists to save.
 */
export async function readCorpus(file: string, options: CorpusReadOptions = {}): Promise<Map<string, string>> {
  const corpus = new Map<string, string>();
  for await (const { docid, text, line } of streamCorpus(file, options)) {
    if (options.docids && !options.docids.has(docid)) continue;
    if (corpus.has(docid)) throw new EvalError('EVAL_DUPLICATE_ENTRY', `${file}:${line}: document "${docid}" is listed twice`, { file, line });
    corpus.set(docid, text);
  }
  return corpus;
}

/** One JSONL line; JSON keeps tabs and newlines in queries and passages intact, unlike TSV. */
export function formatTopicLine(topic: Topic): string {
  return JSON.stringify({ id: topic.qid, query: topic.query });
}

export function formatCorpusLine(document: CorpusDocument): string {
  return JSON.stringify({ id: document.docid, text: document.text });
}
