import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { dashboardExpressions, grafanaDirs, kustomizeDirs, loadComposeFile, readDashboards, readYamlFile, renderKustomization, repoRoot, withGrafanaDurations, type K8sObject } from '../src/index.js';

const compose = loadComposeFile();
const dashboards = readDashboards();

/** `./infra/...:/target:ro` volumes of a compose service as source (repo-relative) -> target. */
function mounts(service: string): Map<string, string> {
  const volumes = (compose.services[service]!.volumes ?? []) as string[];
  return new Map(volumes.filter((volume) => volume.startsWith('./')).map((volume) => volume.slice(2).split(':').slice(0, 2) as [string, string]));
}

interface Datasources {
  datasources: { uid: string; type: string; url: string; isDefault?: boolean }[];
}

interface DashboardProviders {
  providers: { type: string; options: { path: string } }[];
}

/** The label matchers of every vector selector of `expr`, as written. */
function selectorMatchers(expr: string): string[] {
  const found: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name === 'VectorSelector') found.push(expr.slice(node.from, node.to));
    },
  });
  return found;
}

describe('when compose provisions Grafana', () => {
  const grafana = compose.services.grafana!;
  const grafanaMounts = mounts('grafana');

  it('should run a pinned Grafana image on port 3000', () => {
    expect(grafana.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(grafana.ports).toContain('3000:3000');
  });

  it('should mount the provisioning files and the dashboards where the provider reads them', () => {
    expect(grafanaMounts.get('infra/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    const providers = readYamlFile(join(grafanaDirs.provisioning, 'dashboards', 'rerank-pool.yml')) as DashboardProviders;
    expect(providers.providers).toEqual([expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: grafanaMounts.get('infra/grafana/dashboards') }) })]);
    const home = (grafana.environment as Record<string, string>).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(home).toBe(`${grafanaMounts.get('infra/grafana/dashboards')}/rerank-pool.json`);
  });

  it('should use the compose Prometheus as its default data source, the one the dashboards select', () => {
    const { datasources } = readYamlFile(join(grafanaDirs.provisioning, 'datasources', 'prometheus.yml')) as Datasources;
    expect(datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true })]);
    expect(compose.services.prometheus!.ports).toContain('9090:9090');
    for (const dashboard of dashboards.values()) {
      const variable = dashboard.templating!.list.find((entry) => entry.type === 'datasource') as unknown as { query: string; current: { value: string } };
      expect(variable).toMatchObject({ query: 'prometheus', current: { value: datasources[0]!.uid } });
    }
  });

  it('should have Prometheus load the rules file and not its unit tests', () => {
    expect(mounts('prometheus').get('infra/prometheus/rules')).toBe('/etc/prometheus/rules');
    const config = readYamlFile(join(repoRoot, 'infra', 'prometheus', 'prometheus.yml')) as { rule_files: string[] };
    expect(config.rule_files).toEqual(['/etc/prometheus/rules/*.rules.yml']);
    const glob = /^[^/]*\.rules\.yml$/;
    expect(glob.test('rerank-pool.rules.yml') && !glob.test('rerank-pool.rules.test.yml')).toBe(true);
  });
});

describe('when reading the dashboards', () => {
  it('should find the rerank-pool dashboard with unique panel ids', () => {
    expect([...dashboards.keys()]).toEqual(['rerank-pool.json']);
    for (const dashboard of dashboards.values()) {
      const ids = dashboard.panels.map((panel) => (panel as { id: number }).id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    }
  });

  it('should offer namespace and model variables that fall back to every series when All is chosen', () => {
    for (const dashboard of dashboards.values()) {
      const variables = Object.fromEntries(dashboard.templating!.list.map((variable) => [variable.name, variable as unknown as Record<string, unknown>]));
      for (const name of ['namespace', 'model']) expect(variables[name]).toMatchObject({ type: 'query', includeAll: true, allValue: '.*' });
    }
  });

  it('should filter every selector by namespace, and by model where the series has one', () => {
    const expressions = dashboardExpressions(dashboards).filter((entry) => !entry.source.includes(' variable namespace'));
    expect(expressions.length).toBeGreaterThan(40);
    for (const { source, expr } of expressions) {
      for (const selector of selectorMatchers(withGrafanaDurations(expr))) expect(selector, source).toContain('namespace=~"$namespace"');
    }
  });

  it('should query through the data source variable in every panel', () => {
    for (const dashboard of dashboards.values()) {
      for (const panel of dashboard.panels as { type: string; datasource?: { uid: string } }[]) {
        if (panel.type !== 'row') expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
    }
  });
});

describe.each(['cpu', 'gpu'] as const)('when rendering the %s overlay', (overlay) => {
  const configMap = renderKustomization(kustomizeDirs[overlay]).find((object) => object.kind === 'ConfigMap' && object.metadata.name === 'rerank-pool-dashboards') as
    | (K8sObject & { data: Record<string, string>; metadata: { labels: Record<string, string> } })
    | undefined;

  it('should ship the dashboards as a ConfigMap the Grafana sidecar picks up', () => {
    expect(configMap?.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
  });

  it('should hold each dashboard file byte for byte, under its file name', () => {
    expect(Object.keys(configMap!.data)).toEqual([...dashboards.keys()]);
    for (const name of dashboards.keys()) expect(configMap!.data[name]).toBe(readFileSync(join(grafanaDirs.dashboards, name), 'utf8'));
  });
});
