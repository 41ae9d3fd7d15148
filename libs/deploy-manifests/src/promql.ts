import { parser } from '@prometheus-io/lezer-promql';

/**
 * Grafana's interval variables stand where PromQL wants a duration; each is given one so the
 * expression parses as Prometheus would receive it. Other variables ($model, $namespace) sit
 * inside label matcher strings, where any text parses.
 */
const GRAFANA_DURATIONS: Readonly<Record<string, string>> = { $__rate_interval: '1m', $__interval: '15s', $__range: '1h' };

/** `expr` as Prometheus receives it from Grafana: interval variables replaced by durations. */
export function withGrafanaDurations(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, (variable) => GRAFANA_DURATIONS[variable]!);
}

/** Syntax errors of a PromQL expression with the Prometheus project's own grammar (lezer-promql): each as `at <offset>: <text>`. */
export function promqlSyntaxErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 20), node.to + 20))}`);
    },
  });
  return errors;
}

/** Metric names the expression selects (the name of each vector selector), sorted, each once. */
export function promqlMetricNames(expr: string): string[] {
  const names = new Set<string>();
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') names.add(expr.slice(node.from, node.to));
    },
  });
  return [...names].sort();
}
