import { describe, expect, it } from 'vitest';
import { kustomizeDirs, renderKustomization, podContainers, WORKER_DRAIN_SECONDS, type K8sObject } from '../src/index.js';

type PodSpec = { terminationGracePeriodSeconds?: number; securityContext?: { runAsNonRoot?: boolean } };

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} missing`);
  return found;
}

function podSpec(object: K8sObject): PodSpec {
  return (object.spec as { template: { spec: PodSpec } }).template.spec;
}

describe.each(Object.entries(kustomizeDirs))('when checking the %s workloads', (_name, dir) => {
  const objects = renderKustomization(dir);
  const worker = find(objects, 'Deployment', 'rerank-pool-worker');
  const api = find(objects, 'Deployment', 'rerank-pool-api');

  it('should give the worker a grace period longer than its drain', () => {
    expect(podSpec(worker).terminationGracePeriodSeconds).toBeGreaterThan(WORKER_DRAIN_SECONDS);
  });

  it('should probe the worker on its metrics port, having no HTTP API', () => {
    const [container] = podContainers(worker);
    for (const probe of ['startupProbe', 'livenessProbe']) {
      expect(container[probe]).toMatchObject({ httpGet: { path: '/metrics', port: 'metrics' } });
    }
    // /healthz answers 503 while draining: not ready, but not a liveness failure either.
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'metrics' } });
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 9464 }]);
  });

  it('should probe the API on /healthz and /readyz', () => {
    const [container] = podContainers(api);
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/healthz' } });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/readyz' } });
  });

  it('should set resource requests and limits and run as non-root', () => {
    for (const deployment of [api, worker]) {
      const [container] = podContainers(deployment);
      expect(container.resources).toMatchObject({ requests: { cpu: expect.anything(), memory: expect.anything() }, limits: { memory: expect.anything() } });
      expect(podSpec(deployment).securityContext?.runAsNonRoot).toBe(true);
    }
  });

  it('should cover both deployments with a PodDisruptionBudget and the API with a CPU HPA', () => {
    const selectors = objects.filter((object) => object.kind === 'PodDisruptionBudget').map((pdb) => (pdb.spec as { selector: unknown }).selector);
    for (const deployment of [api, worker]) expect(selectors).toContainEqual((deployment.spec as { selector: unknown }).selector);
    expect(find(objects, 'HorizontalPodAutoscaler', 'rerank-pool-api').spec).toMatchObject({
      scaleTargetRef: { kind: 'Deployment', name: 'rerank-pool-api' },
      metrics: [{ type: 'Resource', resource: { name: 'cpu' } }],
    });
  });
});
