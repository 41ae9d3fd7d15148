export { EvalError, type EvalErrorCode, type EvalErrorLocation } from './eval-error.js';
export { readNumberedLines, type NumberedLine } from './line-reader.js';
export { writeLines } from './line-writer.js';
export {
  formatQrelsLine,
  formatRunLine,
  readQrels,
  readRun,
  streamRun,
  type Qrels,
  type QrelsLine,
  type Run,
  type RunEntry,
  type RunLine,
} from './trec-formats.js';
export {
  formatCorpusLine,
  formatTopicLine,
  readCorpus,
  readTopics,
  streamCorpus,
  streamTopics,
  type CollectionFormat,
  type CollectionReadOptions,
  type CorpusDocument,
  type CorpusReadOptions,
  type Topic,
} from './collection-formats.js';
export { formatRerankRequestLine, streamRerankRequests, type RerankDocument, type RerankRequestLine } from './rerank-request-format.js';
export { compareByteOrder, compareTrecOrder, rankEntries } from './ranking.js';
export {
  EVALUATE_DEFAULTS,
  METRIC_NAMES,
  evaluateRun,
  queryMetrics,
  resolveEvaluateOptions,
  type EvaluateOptions,
  type MetricName,
  type Metrics,
  type ResolvedEvaluateOptions,
  type RunEvaluation,
} from './metrics.js';
export { UNCHANGED_TOLERANCE, compareRuns, type MetricComparison, type RunComparison } from './compare.js';
