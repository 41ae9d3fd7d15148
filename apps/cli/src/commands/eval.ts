import {
  METRIC_NAMES,
  compareRuns,
  evaluateRun,
  readQrels,
  readRun,
  type MetricName,
  type Metrics,
  type RunComparison,
  type RunEvaluation,
} from '@rerank-pool/eval';
import { parseCommandArgs, positiveIntegerArg, requiredArg } from '../args.js';

export const usage = 'eval --qrels FILE --run FILE [--baseline FILE] [--k 10] [--complete] [--per-query] [--json]';

const LABELS: Record<MetricName, (k: number) => string> = {
  ndcg: (k) => `nDCG@${k}`,
  mrr: (k) => `MRR@${k}`,
  recall: (k) => `Recall@${k}`,
  map: () => 'MAP',
};

export async function evaluate(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('eval', argv, {
    qrels: { type: 'string', value: 'FILE', description: 'Relevance judgments, TREC qrels format (required)' },
    run: { type: 'string', value: 'FILE', description: 'Ranking to evaluate, TREC run format (required)' },
    baseline: { type: 'string', value: 'FILE', description: 'A first-stage run to compare with, per query' },
    k: { type: 'string', value: 'K', description: 'Cut-off for nDCG, MRR and recall (default: 10)' },
    complete: { type: 'boolean', default: false, description: 'Score judged queries missing from the run as 0 (trec_eval -c)' },
    'per-query': { type: 'boolean', default: false, description: 'Also print the metrics of every query' },
    json: { type: 'boolean', default: false, description: 'Print the report as JSON on stdout' },
  });
  const options = { k: positiveIntegerArg('eval', 'k', values.k) ?? 10, complete: values.complete };
  const qrelsFile = requiredArg('eval', 'qrels', values.qrels);
  const runFile = requiredArg('eval', 'run', values.run);
  const [qrels, run, baselineRun] = await Promise.all([
    readQrels(qrelsFile),
    readRun(runFile),
    values.baseline === undefined ? undefined : readRun(values.baseline),
  ]);
  const evaluation = evaluateRun(qrels, run, options);
  const baseline = baselineRun && evaluateRun(qrels, baselineRun, options);
  const comparison = baseline && compareRuns(evaluation, baseline);
  const report = { evaluation, baseline, comparison, perQuery: values['per-query'] };
  process.stdout.write(values.json ? `${JSON.stringify(toJson(report))}\n` : toText(report));
  return 0;
}

interface Report {
  evaluation: RunEvaluation;
  baseline: RunEvaluation | undefined;
  comparison: RunComparison | undefined;
  perQuery: boolean;
}

function averagedOver(evaluation: RunEvaluation): string {
  return evaluation.complete ? 'all queries in the qrels (trec_eval -c)' : 'queries in both the qrels and the run (trec_eval default)';
}

function toJson({ evaluation, baseline, comparison, perQuery }: Report): object {
  return {
    k: evaluation.k,
    queries: evaluation.perQuery.size,
    averaged_over: averagedOver(evaluation),
    missing_from_run: evaluation.missingQueries.length,
    not_in_qrels: evaluation.unjudgedQueries.length,
    without_relevant: evaluation.queriesWithoutRelevant.length,
    metrics: evaluation.mean,
    ...(baseline && comparison
      ? {
          baseline: baseline.mean,
          compared_queries: comparison.pairedQueries,
          delta: Object.fromEntries(
            METRIC_NAMES.map((name) => {
              const { meanDelta, improved, unchanged, worse } = comparison.metrics[name];
              return [name, { mean: meanDelta, improved, unchanged, worse }];
            }),
          ),
        }
      : {}),
    ...(perQuery
      ? {
          per_query: Object.fromEntries(
            [...evaluation.perQuery].map(([qid, metrics]) => {
              const base = baseline?.perQuery.get(qid);
              return [qid, base ? { metrics, baseline: base } : { metrics }];
            }),
          ),
        }
      : {}),
  };
}

function toText({ evaluation, baseline, comparison, perQuery }: Report): string {
  const k = evaluation.k;
  const lines = [`${count(evaluation.perQuery.size, 'query', 'queries')}, averaged over ${averagedOver(evaluation)}`];
  if (evaluation.missingQueries.length > 0 && !evaluation.complete) {
    lines.push(`${count(evaluation.missingQueries.length, 'judged query', 'judged queries')} missing from the run left out (--complete scores them 0)`);
  }
  if (evaluation.unjudgedQueries.length > 0) lines.push(`${count(evaluation.unjudgedQueries.length, 'query', 'queries')} of the run without judgments ignored`);
  if (evaluation.queriesWithoutRelevant.length > 0) {
    lines.push(`${count(evaluation.queriesWithoutRelevant.length, 'query', 'queries')} without any relevant document scored 0 and counted, as in trec_eval`);
  }
  if (comparison && comparison.unpairedQueries > 0) {
    lines.push(`delta and counts over the ${comparison.pairedQueries} queries evaluated in both runs`);
  }
  const header = baseline ? ['metric', 'run', 'baseline', 'delta', 'improved', 'same', 'worse'] : ['metric', 'run'];
  const rows = METRIC_NAMES.map((name) => {
    const row = [LABELS[name](k), fixed(evaluation.mean[name])];
    if (baseline && comparison) {
      const c = comparison.metrics[name];
      row.push(fixed(baseline.mean[name]), signed(c.meanDelta), String(c.improved), String(c.unchanged), String(c.worse));
    }
    return row;
  });
  lines.push('', ...table([header, ...rows]));
  if (perQuery) {
    const queryRows = [...evaluation.perQuery].map(([qid, metrics]) => [qid, ...METRIC_NAMES.map((name) => cell(metrics, baseline?.perQuery.get(qid), name))]);
    lines.push('', ...table([['query', ...METRIC_NAMES.map((name) => LABELS[name](k))], ...queryRows]));
  }
  return `${lines.join('\n')}\n`;
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A per-query value, followed by its change from the baseline when there is one. */
function cell(metrics: Metrics, base: Metrics | undefined, name: MetricName): string {
  return base ? `${fixed(metrics[name])} (${signed(metrics[name] - base[name])})` : fixed(metrics[name]);
}

// Four decimals, as trec_eval prints: enough to see a re-ranker's effect, short enough to scan.
function fixed(value: number): string {
  return value.toFixed(4);
}

function signed(value: number): string {
  const text = value.toFixed(4);
  // A difference that rounds to zero prints unsigned, so "-0.0000" never suggests a loss.
  return Number(text) === 0 ? '0.0000' : value > 0 ? `+${text}` : text;
}

/** Left-aligns the first column and right-aligns the others, two spaces apart. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((text, column) => (column === 0 ? text.padEnd(widths[column]!) : text.padStart(widths[column]!))).join('  ').trimEnd());
}
