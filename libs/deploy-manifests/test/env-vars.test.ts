import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@rerank-pool/config';
import {
  composeEnvVars,
  envVarsUsed,
  isKnownEnvVar,
  kubernetesEnvVars,
  kustomizeDirs,
  loadComposeFile,
  readYamlFile,
  unknownEnvVars,
  type K8sObject,
} from '../src/index.js';

describe('when collecting the environment variables the manifests set', () => {
  const uses = envVarsUsed();

  it('should find them in compose, ConfigMaps, Secrets, Deployments and Dockerfiles', () => {
    const sources = uses.map((use) => use.source).join('\n');
    for (const expected of ['docker-compose.yml services.worker', 'infra/compose/redis-sentinel.yml services.api', 'k8s cpu + redis-cluster Deployment/rerank-pool-api', 'ConfigMap/rerank-pool-config', 'Secret/rerank-pool-secrets', 'Deployment/rerank-pool-worker', 'Dockerfile.cuda:']) {
      expect(sources).toContain(expected);
    }
    expect(uses.map((use) => use.name)).toEqual(
      expect.arrayContaining(['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'REDIS_CLUSTER_NODES', 'API_KEYS', 'WEBHOOK_SECRET', 'EXECUTION_PROVIDER', 'METRICS_PORT', 'BATCH_STORE_URL', 'AWS_ACCESS_KEY_ID']),
    );
  });

  it('should only use variables of the config schema, OTEL_*, HF_*, AWS_* or NODE_*', () => {
    expect(unknownEnvVars(uses)).toEqual([]);
  });

  it("should read compose's app services only, not MinIO or its mc init job", () => {
    const services = new Set(composeEnvVars(loadComposeFile()).map((use) => use.source.split('services.')[1]));
    expect([...services].sort()).toEqual(['api', 'model-pull', 'worker']);
  });
});

describe('when deciding which variables the app reads', () => {
  it("should know the AWS SDK's standard variables by their AWS_ prefix", () => {
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_ENDPOINT_URL_S3']) expect(isKnownEnvVar(name)).toBe(true);
    expect(isKnownEnvVar('AWSS3_BUCKET')).toBe(false);
    expect(isKnownEnvVar('MINIO_ROOT_USER')).toBe(false);
  });
});

describe('when a manifest sets a variable the app does not read', () => {
  it('should report it from a compose service', () => {
    const compose = loadComposeFile();
    compose.services.api.environment = { ...(compose.services.api.environment as Record<string, string>), REDIS_HOST: 'redis' };
    expect(unknownEnvVars(composeEnvVars(compose))).toEqual([{ name: 'REDIS_HOST', source: 'docker-compose.yml services.api' }]);
  });

  it('should report it from a service running the app image by name, and skip other images', () => {
    const compose = loadComposeFile();
    compose.services = {
      gpu: { image: 'ghcr.io/rerank-pool/rerank-pool-cuda:0.1.0', environment: ['WORKERS=4'] },
      store: { image: 'minio/minio:latest', environment: { MINIO_ROOT_USER: 'rerank-pool' } },
      docs: { image: 'rerank-pool-docs:latest', environment: { SITE_URL: 'http://localhost' } },
    };
    expect(unknownEnvVars(composeEnvVars(compose))).toEqual([{ name: 'WORKERS', source: 'docker-compose.yml services.gpu' }]);
  });

  it('should report it from a ConfigMap key the app loads with envFrom, and ignore ConfigMaps it does not load', () => {
    const configMap: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { WORKERS: '4', PORT: '8080' } };
    const dashboards: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dashboards' }, data: { 'rerank-pool.json': '{}' } };
    const deployment: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app' },
      spec: { template: { spec: { containers: [{ name: 'app', envFrom: [{ configMapRef: { name: 'settings' } }] }] } } },
    };
    expect(unknownEnvVars(kubernetesEnvVars([configMap, dashboards, deployment], 'test')).map((use) => use.name)).toEqual(['WORKERS']);
  });
});

describe('when the base Secret is applied unedited', () => {
  it('should keep the service from starting rather than sign webhooks with a published secret', () => {
    const secret = readYamlFile(join(kustomizeDirs.base, 'secret.yaml')) as { stringData: Record<string, string> };
    const placeholder = secret.stringData.WEBHOOK_SECRET!;
    expect(placeholder.startsWith('whsec_')).toBe(true);
    const load = () => loadConfig({ WEBHOOK_SECRET: placeholder });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/WEBHOOK_SECRET must be whsec_<base64 of 24 to 64 random bytes>/);
  });
});
