import { EvalError } from './eval-error.js';
import { compareByteOrder, rankEntries } from './ranking.js';
import type { Qrels, Run } from './trec-formats.js';

export const METRIC_NAMES = ['ndcg', 'mrr', 'recall', 'map'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** One value per metric: nDCG@k, MRR@k and Recall@k at the evaluation's k; MAP uncut. */
export type Metrics = Record<MetricName, number>;

export interface EvaluateOptions {
  /** Cut-off for nDCG, MRR and Recall (trec_eval `ndcg_cut.k`, `recip_rank -M k`, `recall.k`). Default 10. */
  k?: number;
  /**
   * trec_eval's `-c`: average over every query in the qrels, a query missing from the run
   * scoring 0. Default false, trec_eval's default: only queries present in both the run and
   * the qrels are evaluated and averaged.
   */
  complete?: boolean;
}

export type ResolvedEvaluateOptions = Required<EvaluateOptions>;

export const EVALUATE_DEFAULTS: ResolvedEvaluateOptions = { k: 10, complete: false };

export function resolveEvaluateOptions(options: EvaluateOptions = {}): ResolvedEvaluateOptions {
  const resolved: ResolvedEvaluateOptions = {
    k: options.k ?? EVALUATE_DEFAULTS.k,
    complete: options.complete ?? EVALUATE_DEFAULTS.complete,
  };
  if (!Number.isInteger(resolved.k) || resolved.k < 1) throw new EvalError('EVAL_BAD_OPTION', `k must be a positive integer, got ${resolved.k}`);
  return resolved;
}

/**
 * trec_eval's relevance threshold (`-l`, default 1): a document is relevant for MRR, Recall and
 * MAP when its grade is at least 1. nDCG uses the grade itself as gain, so grades <= 0 add nothing.
 */
const RELEVANT = 1;

/**
 * All metrics of one query. `ranked` is the retrieved document ids best first (see
 * `rankEntries`); `judged` maps document ids to grades. Unjudged documents are non-relevant.
 * The definitions follow trec_eval 9 (m_ndcg_cut.c, m_recip_rank.c, m_recall.c, m_map.c); a
 * query without relevant documents scores 0 on every metric, as there.
 */
export function queryMetrics(ranked: readonly string[], judged: ReadonlyMap<string, number>, k: number): Metrics {
  let relevantTotal = 0;
  const positiveGrades: number[] = [];
  for (const grade of judged.values()) {
    if (grade >= RELEVANT) relevantTotal++;
    if (grade > 0) positiveGrades.push(grade);
  }
  let dcg = 0;
  let firstRelevantRank = 0;
  let relevantInTopK = 0;
  let relevantSoFar = 0;
  let precisionSum = 0;
  for (let i = 0; i < ranked.length; i++) {
    const rank = i + 1;
    const grade = judged.get(ranked[i]!) ?? 0;
    if (rank <= k && grade > 0) dcg += grade / Math.log2(rank + 1);
    if (grade < RELEVANT) continue;
    relevantSoFar++;
    precisionSum += relevantSoFar / rank;
    if (rank <= k) {
      relevantInTopK++;
      if (firstRelevantRank === 0) firstRelevantRank = rank;
    }
  }
  // The ideal ranking puts every judged document in grade order, best first, including those the
  // run never retrieved; that is what makes nDCG punish missing relevant documents.
  positiveGrades.sort((a, b) => b - a);
  let idealDcg = 0;
  for (let i = 0; i < Math.min(k, positiveGrades.length); i++) idealDcg += positiveGrades[i]! / Math.log2(i + 2);
  return {
    ndcg: idealDcg > 0 ? dcg / idealDcg : 0,
    mrr: firstRelevantRank > 0 ? 1 / firstRelevantRank : 0,
    recall: relevantTotal > 0 ? relevantInTopK / relevantTotal : 0,
    map: relevantTotal > 0 ? precisionSum / relevantTotal : 0,
  };
}

export interface RunEvaluation {
  k: number;
  complete: boolean;
  /** Per evaluated query, in trec_eval's order (query id by strcmp). */
  perQuery: Map<string, Metrics>;
  /** Arithmetic mean over `perQuery`. */
  mean: Metrics;
  /** In the run but not the qrels: ignored, as trec_eval ignores them. */
  unjudgedQueries: string[];
  /** In the qrels but not the run: left out by default, scored 0 when `complete`. */
  missingQueries: string[];
  /** Evaluated queries whose judgments hold no relevant document: they score 0 and still count. */
  queriesWithoutRelevant: string[];
}

/** Evaluates a whole run against qrels the way `trec_eval [-c] -m ndcg_cut.k -m recall.k -m map -M k recip_rank` would. */
export function evaluateRun(qrels: Qrels, run: Run, options: EvaluateOptions = {}): RunEvaluation {
  const { k, complete } = resolveEvaluateOptions(options);
  const unjudgedQueries = [...run.keys()].filter((qid) => !qrels.has(qid)).sort(compareByteOrder);
  const missingQueries = [...qrels.keys()].filter((qid) => !run.has(qid)).sort(compareByteOrder);
  const evaluated = [...qrels.keys()].filter((qid) => complete || run.has(qid)).sort(compareByteOrder);
  if (evaluated.length === 0) {
    throw new EvalError('EVAL_NO_QUERIES', 'no query has both results and relevance judgments: do the query ids of the run and the qrels match?');
  }
  const perQuery = new Map<string, Metrics>();
  const queriesWithoutRelevant: string[] = [];
  for (const qid of evaluated) {
    const judged = qrels.get(qid)!;
    if (![...judged.values()].some((grade) => grade >= RELEVANT)) queriesWithoutRelevant.push(qid);
    perQuery.set(qid, queryMetrics(rankEntries(run.get(qid) ?? []), judged, k));
  }
  return { k, complete, perQuery, mean: meanMetrics([...perQuery.values()]), unjudgedQueries, missingQueries, queriesWithoutRelevant };
}

function meanMetrics(values: readonly Metrics[]): Metrics {
  const mean = { ndcg: 0, mrr: 0, recall: 0, map: 0 };
  if (values.length === 0) return mean;
  for (const name of METRIC_NAMES) mean[name] = values.reduce((sum, value) => sum + value[name], 0) / values.length;
  return mean;
}
