import { formatRerankRequestLine, rankEntries, readCorpus, readRun, readTopics, streamRerankRequests } from '@rerank-pool/eval';
import { SubmitError } from './submit-error.js';

/** What `submit` uploads: NDJSON request lines, produced on demand, plus what the output needs. */
export interface SubmitInput {
  /** The upload's lines, one JSON request each; callable again (a retried upload re-reads them). */
  lines(): AsyncGenerator<string>;
  requests: number;
  pairs: number;
  /** TREC input: each query's candidate document ids, in the order sent; results index into it. */
  docids?: Map<string, string[]>;
}

/**
 * JSONL `{id, query, documents}` lines. The file is read twice, never held: once to check it
 * (ids unique, shapes right: a bad file fails here, before anything is sent) and count it, then
 * once per upload.
 */
export async function jsonlInput(file: string, model?: string): Promise<SubmitInput> {
  let requests = 0;
  let pairs = 0;
  for await (const request of streamRerankRequests(file)) {
    requests += 1;
    pairs += request.documents.length;
  }
  return {
    requests,
    pairs,
    async *lines() {
      for await (const { id, query, documents } of streamRerankRequests(file)) yield formatRerankRequestLine({ id, query, documents, model });
    },
  };
}

export interface TrecInputFiles {
  /** First-stage run `qid Q0 docid rank score tag`. */
  run: string;
  /** `qid<TAB>query` or JSONL. */
  topics: string;
  /** `docid<TAB>text` or JSONL; only the run's candidates are kept in memory. */
  corpus: string;
  /** Candidates re-ranked per query: the first stage's top k. */
  kIn: number;
  model?: string;
}

/**
 * One request per query of a TREC run: its top `kIn` candidates (in trec_eval's order: score
 * descending, ties by docid) with their texts from the corpus, and the query's text from the topics.
 */
export async function trecInput({ run: runFile, topics: topicsFile, corpus: corpusFile, kIn, model }: TrecInputFiles): Promise<SubmitInput> {
  const run = await readRun(runFile);
  const docids = new Map<string, string[]>();
  const wanted = new Set<string>();
  for (const [qid, entries] of run) {
    const top = rankEntries(entries).slice(0, kIn);
    docids.set(qid, top);
    for (const docid of top) wanted.add(docid);
  }
  const [topics, corpus] = await Promise.all([readTopics(topicsFile), readCorpus(corpusFile, { docids: wanted })]);
  let pairs = 0;
  for (const [qid, candidates] of docids) {
    if (!topics.has(qid)) throw new SubmitError('SUBMIT_INPUT', `query "${qid}" of ${runFile} is not in the topics file ${topicsFile}`);
    const missing = candidates.find((docid) => !corpus.has(docid));
    if (missing !== undefined) throw new SubmitError('SUBMIT_INPUT', `document "${missing}" (query "${qid}" of ${runFile}) is not in the corpus ${corpusFile}`);
    pairs += candidates.length;
  }
  return {
    requests: docids.size,
    pairs,
    docids,
    async *lines() {
      for (const [qid, candidates] of docids) {
        yield formatRerankRequestLine({ id: qid, query: topics.get(qid)!, documents: candidates.map((docid) => corpus.get(docid)!), model });
      }
    },
  };
}
