import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertRulePaths, kubernetesSchemaErrors, kustomizeDirs, readRuleGroups, readYamlFile, renderKustomization, repoRoot, type K8sObject, type RuleGroup } from '../src/index.js';

const PROMTOOL = process.env.PROMTOOL ?? 'promtool';
const promtoolFound = spawnSync(PROMTOOL, ['--version']).error === undefined;

function promtool(args: string[], cwd = dirname(alertRulePaths.rules)): { status: number | null; output: string } {
  const result = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface PromtoolTest {
  name: string;
  alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
}

const groups = readRuleGroups();
const alerts = groups.flatMap((group) => group.rules.filter((rule) => rule.alert !== undefined));
const unitTests = (readYamlFile(alertRulePaths.tests) as { tests: PromtoolTest[] }).tests;

function prometheusRule(dir: string): K8sObject & { spec: { groups: RuleGroup[] } } {
  return renderKustomization(dir).find((object) => object.kind === 'PrometheusRule') as K8sObject & { spec: { groups: RuleGroup[] } };
}

// CI installs promtool (.ci/run), so there a missing one fails; elsewhere these are skipped, saying why.
const runPromtool = promtoolFound || process.env.CI !== undefined;

describe.runIf(runPromtool)('when promtool checks and unit-tests the alert rules (skipped outside CI without promtool)', () => {
  it('should find promtool (CI installs it: apt-get install prometheus)', () => {
    expect(promtoolFound, `${PROMTOOL} not found: install Debian's prometheus package, or point PROMTOOL at it`).toBe(true);
  });

  it('should accept the rules file', () => {
    const { status, output } = promtool(['check', 'rules', alertRulePaths.rules]);
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  it('should pass every unit test', () => {
    const { status, output } = promtool(['test', 'rules', basename(alertRulePaths.tests)]);
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  it('should fail a unit test when a threshold changes, so the tests can fail', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alert-rules-'));
    copyFileSync(alertRulePaths.tests, join(dir, basename(alertRulePaths.tests)));
    const rules = readFileSync(alertRulePaths.rules, 'utf8');
    writeFileSync(join(dir, basename(alertRulePaths.rules)), rules.replace('expr: vector(0.9)', 'expr: vector(0.95)'));
    const { status, output } = promtool(['test', 'rules', basename(alertRulePaths.tests)], dir);
    expect(status).not.toBe(0);
    expect(output).toContain('alertname: RerankMemoryNearLimit');
  });
});

describe('when reading the alert rules and their unit tests', () => {
  it('should define every alert the issue asks for', () => {
    expect(alerts.map((rule) => rule.alert).sort()).toEqual([
      'RerankBatchStalled',
      'RerankErrorRatioHigh',
      'RerankInteractiveWaitTooLong',
      'RerankMemoryNearLimit',
      'RerankModelWithoutWorkers',
      'RerankRedisUnreachable',
      'RerankWebhookDeliveriesFailing',
      'RerankWebhookDeliveriesGivenUp',
    ]);
  });

  it('should test each alert both firing and not firing', () => {
    for (const { alert } of alerts) {
      const cases = unitTests.flatMap((test) => test.alert_rule_test ?? []).filter((check) => check.alertname === alert);
      expect(cases.some((check) => check.exp_alerts.length > 0), `${alert} firing`).toBe(true);
      expect(cases.some((check) => check.exp_alerts.length === 0), `${alert} not firing`).toBe(true);
    }
  });

  it('should give each alert a severity and a runbook section that exists in the README', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const rule of alerts) {
      expect(['critical', 'warning']).toContain(rule.labels?.severity);
      expect(rule.annotations?.runbook).toBe(`README.md#${rule.alert!.toLowerCase()}`);
      expect(new RegExp(`^#{3,4} ${rule.alert}$`, 'm').test(readme), `README has a section "### ${rule.alert}"`).toBe(true);
    }
  });

  it('should keep every threshold a constant rule ahead of the alerts, as the overlay patches expect', () => {
    const thresholds = groups[0]!.rules.slice(0, 4);
    expect(thresholds.map((rule) => rule.record)).toEqual([
      'rerank:threshold:interactive_wait_seconds',
      'rerank:threshold:error_ratio',
      'rerank:threshold:webhook_failure_ratio',
      'rerank:threshold:memory_ratio',
    ]);
    for (const rule of thresholds) expect(rule.expr).toMatch(/^vector\([\d.]+\)$/);
  });
});

describe('when rendering the PrometheusRule', () => {
  it('should hold exactly the groups of the rules file in the base and the cpu overlay', () => {
    for (const dir of [kustomizeDirs.base, kustomizeDirs.cpu]) {
      expect(prometheusRule(dir).spec.groups, `${dir}: k8s/base/prometheus-rule.yaml must hold infra/prometheus/rules/rerank-pool.rules.yml's groups`).toEqual(groups);
    }
  });

  it('should change only the thresholds the gpu overlay patches', () => {
    const patched = prometheusRule(kustomizeDirs.gpu).spec.groups;
    expect(patched[0]!.rules[0]).toEqual({ record: 'rerank:threshold:interactive_wait_seconds', expr: 'vector(2)' });
    const rest = structuredClone(patched);
    rest[0]!.rules[0]!.expr = groups[0]!.rules[0]!.expr;
    expect(rest).toEqual(groups);
  });

  it('should be checked against the Prometheus Operator model, which rejects a rule without expr', () => {
    const rule = prometheusRule(kustomizeDirs.cpu);
    expect(kubernetesSchemaErrors(rule)).toEqual([]);
    delete (rule.spec.groups[0]!.rules[5] as { expr?: string }).expr;
    expect(kubernetesSchemaErrors(rule)).toEqual([expect.stringMatching(/PrometheusRule\/rerank-pool: .*expr/)]);
  });
});
