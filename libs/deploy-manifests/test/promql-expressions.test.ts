import { describe, expect, it } from 'vitest';
import { dashboardExpressions, promqlMetricNames, promqlSyntaxErrors, ruleExpressions, withGrafanaDurations } from '../src/index.js';

const expressions = [...dashboardExpressions(), ...ruleExpressions()];

describe('when parsing every PromQL expression of the dashboards and the alert rules', () => {
  it('should find the panels, variables and rules', () => {
    expect(expressions.length).toBeGreaterThan(50);
    expect(expressions.map((entry) => entry.source)).toEqual(
      expect.arrayContaining(['rerank-pool.json variable model', 'rule RerankBatchStalled', 'rule rerank:threshold:error_ratio', expect.stringMatching(/^rerank-pool\.json panel "Running batches" C$/)]),
    );
  });

  it('should parse each one with the Prometheus grammar', () => {
    const errors = expressions.flatMap(({ source, expr }) => promqlSyntaxErrors(withGrafanaDurations(expr)).map((error) => `${source}: ${error}`));
    expect(errors).toEqual([]);
  });

  it('should report a broken expression, so the check can fail', () => {
    expect(promqlSyntaxErrors('sum by (model) (rate(rerank_pairs_total[5m])')).not.toEqual([]);
    expect(promqlSyntaxErrors('rate(rerank_pairs_total[$__rate_interval])')).not.toEqual([]);
    expect(promqlSyntaxErrors(withGrafanaDurations('rate(rerank_pairs_total[$__rate_interval])'))).toEqual([]);
  });

  it('should name the selected series, not functions, labels or recorded thresholds alone', () => {
    expect(
      promqlMetricNames('sum by (model) (rate(rerank_pairs_total{model=~"$model"}[5m]) * on (instance, model) group_left (dtype) rerank_model_info) > on () group_left () rerank:threshold:x'),
    ).toEqual(['rerank:threshold:x', 'rerank_model_info', 'rerank_pairs_total']);
  });
});
