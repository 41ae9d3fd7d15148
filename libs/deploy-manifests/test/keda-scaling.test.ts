import { describe, expect, it } from 'vitest';
import { kustomizeDirs, renderKustomization, scaleToZeroOverlayDir, type K8sObject } from '../src/index.js';

interface ScaledObjectSpec {
  scaleTargetRef: { name: string };
  minReplicaCount: number;
  maxReplicaCount: number;
  fallback?: { failureThreshold: number; replicas: number };
  triggers: Array<{ type: string; metadata: Record<string, string> }>;
}

function scaledObject(objects: K8sObject[]): ScaledObjectSpec {
  const found = objects.find((object) => object.kind === 'ScaledObject');
  if (!found) throw new Error('no ScaledObject');
  return found.spec as ScaledObjectSpec;
}

function deployment(objects: K8sObject[], name: string): K8sObject {
  return objects.find((object) => object.kind === 'Deployment' && object.metadata.name === name) as K8sObject;
}

describe.each(Object.entries(kustomizeDirs))('when reading the %s worker ScaledObject', (_name, dir) => {
  const spec = scaledObject(renderKustomization(dir));

  it('should scale the worker Deployment', () => {
    expect(spec.scaleTargetRef.name).toBe('rerank-pool-worker');
  });

  it('should count waiting, prioritized and active jobs from the rerank_queue_jobs gauge', () => {
    // BullMQ keeps prioritized jobs in a sorted set, which KEDA's redis list scaler cannot read.
    const [trigger] = spec.triggers;
    expect(trigger.type).toBe('prometheus');
    const query = trigger.metadata.query;
    expect(query).toMatch(/\brerank_queue_jobs\{/);
    const states = /state=~"([^"]+)"/.exec(query)?.[1].split('|').sort();
    expect(states).toEqual(['active', 'prioritized', 'waiting']);
    expect(Number(trigger.metadata.threshold)).toBeGreaterThan(0);
  });

  it('should also scale on the pending pairs from the rerank_queue_pending_pairs gauge, keeping the job-count trigger', () => {
    // Work, not only requests: one 1,000-document job counts for 500 two-document ones.
    expect(spec.triggers).toHaveLength(2);
    const pairs = spec.triggers.find((trigger) => /\brerank_queue_pending_pairs\b/.test(trigger.metadata.query));
    expect(pairs?.type).toBe('prometheus');
    // Every priority class (batch lines included), each queue counted once across scraped pods.
    expect(pairs?.metadata.query).toBe('sum(max by (model, priority) (rerank_queue_pending_pairs))');
    expect(Number(pairs?.metadata.threshold)).toBeGreaterThan(0);
  });

  it('should make a missing gauge a scaler error, not an empty queue', () => {
    // KEDA's default (ignoreNullValues 'true') reads an empty answer as 0: with no scrape target
    // the workers would never scale up, silently.
    for (const trigger of spec.triggers) {
      expect(trigger.metadata.ignoreNullValues).toBe('false');
      expect(new URL(trigger.metadata.serverAddress).hostname).toMatch(/^prometheus-operated\./);
    }
  });

  it('should fall back to a fixed number of workers while the trigger fails', () => {
    expect(spec.fallback?.failureThreshold).toBeGreaterThan(0);
    expect(spec.fallback?.replicas).toBeGreaterThan(0);
    expect(spec.fallback?.replicas).toBeLessThanOrEqual(spec.maxReplicaCount);
  });

  it('should keep one worker by default', () => {
    expect(spec.minReplicaCount).toBe(1);
  });
});

describe('when an overlay includes the scale-to-zero component', () => {
  // Rendered as an overlay would: the cpu overlay's kustomization plus the component.
  const objects = renderKustomization(scaleToZeroOverlayDir);

  it('should let KEDA remove every worker', () => {
    expect(scaledObject(objects).minReplicaCount).toBe(0);
  });

  it('should keep the trigger of the base', () => {
    expect(scaledObject(objects).triggers).toEqual(scaledObject(renderKustomization(kustomizeDirs.base)).triggers);
  });

  it('should keep API pods ready without a worker heartbeat, so jobs can arrive to wake workers', () => {
    const api = deployment(objects, 'rerank-pool-api') as K8sObject & { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } };
    expect(api.spec.template.spec.containers[0].readinessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' } });
  });
});
