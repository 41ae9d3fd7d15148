import { describe, expect, it } from 'vitest';
import { composeEnvVars, envVarsUsed, kubernetesEnvVars, loadComposeFile, unknownEnvVars, type K8sObject } from '../src/index.js';

describe('when collecting the environment variables the manifests set', () => {
  const uses = envVarsUsed();

  it('should find them in compose, ConfigMaps, Secrets, Deployments and Dockerfiles', () => {
    const sources = uses.map((use) => use.source).join('\n');
    for (const expected of ['docker-compose.yml services.worker', 'ConfigMap/rerank-pool-config', 'Secret/rerank-pool-secrets', 'Deployment/rerank-pool-worker', 'Dockerfile.cuda:']) {
      expect(sources).toContain(expected);
    }
    expect(uses.map((use) => use.name)).toEqual(expect.arrayContaining(['REDIS_URL', 'API_KEYS', 'WEBHOOK_SECRET', 'EXECUTION_PROVIDER', 'METRICS_PORT']));
  });

  it('should only use variables of the config schema, OTEL_*, HF_*, NODE_* or METRICS_PORT', () => {
    expect(unknownEnvVars(uses)).toEqual([]);
  });
});

describe('when a manifest sets a variable the app does not read', () => {
  it('should report it from a compose service', () => {
    const compose = loadComposeFile();
    compose.services.api.environment = { ...(compose.services.api.environment as Record<string, string>), REDIS_HOST: 'redis' };
    expect(unknownEnvVars(composeEnvVars(compose))).toEqual([{ name: 'REDIS_HOST', source: 'docker-compose.yml services.api' }]);
  });

  it('should report it from a ConfigMap key', () => {
    const configMap: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { WORKERS: '4', PORT: '8080' } };
    expect(unknownEnvVars(kubernetesEnvVars([configMap], 'test')).map((use) => use.name)).toEqual(['WORKERS']);
  });
});
