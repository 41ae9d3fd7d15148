import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file sits in libs/deploy-manifests/{src,dist}. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export const composeFilePath = join(repoRoot, 'docker-compose.yml');
export const dockerfilePaths = { cpu: join(repoRoot, 'Dockerfile'), cuda: join(repoRoot, 'Dockerfile.cuda') } as const;
export const kustomizeDirs = {
  base: join(repoRoot, 'k8s', 'base'),
  cpu: join(repoRoot, 'k8s', 'overlays', 'cpu'),
  gpu: join(repoRoot, 'k8s', 'overlays', 'gpu'),
} as const;

/** Grafana: the dashboard JSON files (compose mounts them, k8s generates a ConfigMap of them) and the provisioning files. */
export const grafanaDirs = {
  dashboards: join(repoRoot, 'infra', 'grafana', 'dashboards'),
  provisioning: join(repoRoot, 'infra', 'grafana', 'provisioning'),
} as const;

/** The alert rules file, its promtool unit tests, and the PrometheusRule that must hold the same groups. */
export const alertRulePaths = {
  rules: join(repoRoot, 'infra', 'prometheus', 'rules', 'rerank-pool.rules.yml'),
  tests: join(repoRoot, 'infra', 'prometheus', 'rules', 'rerank-pool.rules.test.yml'),
  prometheusRule: join(repoRoot, 'k8s', 'base', 'prometheus-rule.yaml'),
} as const;

/** The cpu overlay with the scale-to-zero component, as an operator would write it (a test fixture). */
export const scaleToZeroOverlayDir = join(repoRoot, 'libs', 'deploy-manifests', 'test', 'fixtures', 'cpu-scale-to-zero');

/** The cpu overlay with each Redis topology component (test fixtures, as docs/redis-topologies.md tells operators to write them). */
export const redisTopologyOverlayDirs = {
  'cpu + redis-sentinel': join(repoRoot, 'libs', 'deploy-manifests', 'test', 'fixtures', 'cpu-redis-sentinel'),
  'cpu + redis-cluster': join(repoRoot, 'libs', 'deploy-manifests', 'test', 'fixtures', 'cpu-redis-cluster'),
} as const;

/** The compose override files that put the service on Sentinel or a Redis Cluster. */
export const composeOverridePaths = [join(repoRoot, 'infra', 'compose', 'redis-sentinel.yml'), join(repoRoot, 'infra', 'compose', 'redis-cluster.yml')] as const;

/** Every YAML file of the deployment: docker-compose.yml and all of infra/ and k8s/. */
export function deploymentYamlFiles(): string[] {
  const found = [composeFilePath];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ya?ml$/.test(entry.name)) found.push(path);
    }
  };
  walk(join(repoRoot, 'infra'));
  walk(join(repoRoot, 'k8s'));
  return found.sort();
}
