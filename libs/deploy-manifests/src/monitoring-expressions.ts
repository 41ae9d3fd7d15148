import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alertRulePaths, grafanaDirs } from './repo-paths.js';
import { readYamlFile } from './yaml-file.js';

/** One PromQL expression of a dashboard or rules file, and where it is. */
export interface MonitoringExpression {
  /** e.g. `rerank-pool.json panel "Pairs/s by model" A` or `rule RerankBatchStalled`. */
  source: string;
  expr: string;
}

interface DashboardTarget {
  refId?: string;
  expr?: string;
}

interface DashboardPanel {
  title?: string;
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}

interface DashboardVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating?: { list: DashboardVariable[] };
}

export interface RuleGroup {
  name: string;
  rules: { record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
}

/** Every dashboard JSON file, by file name. */
export function readDashboards(dir = grafanaDirs.dashboards): Map<string, Dashboard> {
  const files = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  return new Map(files.map((name) => [name, JSON.parse(readFileSync(join(dir, name), 'utf8')) as Dashboard]));
}

/** The groups of the alert rules file. */
export function readRuleGroups(path = alertRulePaths.rules): RuleGroup[] {
  return (readYamlFile(path) as { groups: RuleGroup[] }).groups;
}

// Grafana's label_values(selector, label) is not PromQL; its selector is.
const LABEL_VALUES = /^label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$/s;

/** The PromQL of every panel target (rows' nested panels too) and of every query variable. */
export function dashboardExpressions(dashboards = readDashboards()): MonitoringExpression[] {
  const found: MonitoringExpression[] = [];
  for (const [file, dashboard] of dashboards) {
    const visit = (panels: DashboardPanel[]) => {
      for (const panel of panels) {
        for (const target of panel.targets ?? []) {
          if (target.expr !== undefined) found.push({ source: `${file} panel ${JSON.stringify(panel.title)} ${target.refId ?? ''}`.trim(), expr: target.expr });
        }
        visit(panel.panels ?? []);
      }
    };
    visit(dashboard.panels);
    for (const variable of dashboard.templating?.list ?? []) {
      if (variable.type !== 'query') continue;
      const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
      found.push({ source: `${file} variable ${variable.name}`, expr: LABEL_VALUES.exec(query)?.[1] ?? query });
    }
  }
  return found;
}

/** The expression of every recording and alerting rule. */
export function ruleExpressions(groups = readRuleGroups()): MonitoringExpression[] {
  return groups.flatMap((group) => group.rules.map((rule) => ({ source: `rule ${rule.alert ?? rule.record}`, expr: rule.expr })));
}
