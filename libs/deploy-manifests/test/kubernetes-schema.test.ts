import { describe, expect, it } from 'vitest';
import { kubernetesSchemaErrors, kustomizeDirs, renderKustomization, redisTopologyOverlayDirs, scaleToZeroOverlayDir, type K8sObject } from '../src/index.js';

const rendered = { ...kustomizeDirs, 'cpu + scale-to-zero': scaleToZeroOverlayDir, ...redisTopologyOverlayDirs };

describe.each(Object.entries(rendered))('when rendering the %s kustomization', (_name, dir) => {
  const objects = renderKustomization(dir);

  it('should validate every object against its Kubernetes, KEDA or Prometheus Operator schema', () => {
    expect(objects.flatMap(kubernetesSchemaErrors)).toEqual([]);
  });

  it('should hold the API, worker and autoscaling objects', () => {
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual([
      'ConfigMap/rerank-pool-config',
      'ConfigMap/rerank-pool-dashboards',
      'Deployment/rerank-pool-api',
      'Deployment/rerank-pool-worker',
      'HorizontalPodAutoscaler/rerank-pool-api',
      'PodDisruptionBudget/rerank-pool-api',
      'PodDisruptionBudget/rerank-pool-worker',
      'PodMonitor/rerank-pool',
      'PrometheusRule/rerank-pool',
      'ScaledObject/rerank-pool-worker',
      'Secret/rerank-pool-secrets',
      'Service/rerank-pool-api',
    ]);
  });

  it('should stay namespace-agnostic', () => {
    expect(objects.filter((object) => object.metadata.namespace !== undefined)).toEqual([]);
  });
});

describe('when an object breaks its schema', () => {
  const worker = renderKustomization(kustomizeDirs.base).find((object) => object.kind === 'Deployment' && object.metadata.name === 'rerank-pool-worker') as K8sObject;

  it('should report a wrongly typed field', () => {
    const broken = structuredClone(worker) as K8sObject & { spec: { template: { spec: { terminationGracePeriodSeconds: unknown } } } };
    broken.spec.template.spec.terminationGracePeriodSeconds = '40s';
    expect(kubernetesSchemaErrors(broken)).toEqual([expect.stringContaining('terminationGracePeriodSeconds')]);
  });

  it('should report a PodMonitor endpoint of the wrong shape', () => {
    const podMonitor = renderKustomization(kustomizeDirs.base).find((object) => object.kind === 'PodMonitor') as K8sObject & { spec: { podMetricsEndpoints: unknown } };
    podMonitor.spec.podMetricsEndpoints = { port: 'http' };
    expect(kubernetesSchemaErrors(podMonitor)).toEqual([expect.stringContaining('podMetricsEndpoints')]);
  });

  it('should report a kind it has no schema for', () => {
    expect(kubernetesSchemaErrors({ ...worker, kind: 'Deploymnet' })).toEqual([expect.stringContaining('no schema')]);
  });
});
