import { describe, expect, it } from 'vitest';
import { kustomizeDirs, podContainers, renderKustomization, scaleToZeroOverlayDir, type K8sObject } from '../src/index.js';

interface PodMonitorSpec {
  selector: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
  podMetricsEndpoints: Array<{ port?: string; path?: string }>;
}

interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Array<{ ports?: Array<{ name?: string; containerPort: number }>; env?: Array<{ name: string; value?: string }> }> };
}

function template(objects: K8sObject[], name: string): PodTemplate {
  const found = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === name);
  if (!found) throw new Error(`Deployment/${name} missing`);
  return (found.spec as { template: PodTemplate }).template;
}

/** A label selector's meaning, for the operators this repository uses. */
function selects(selector: PodMonitorSpec['selector'], labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === 'In') return values.includes(labels[key]);
    if (operator === 'Exists') return key in labels;
    throw new Error(`selector operator ${operator} not handled by this test`);
  });
  return byLabels && byExpressions;
}

function portNames(pod: PodTemplate): Map<string, number> {
  return new Map(pod.spec.containers.flatMap((container) => container.ports ?? []).map((port) => [port.name ?? '', port.containerPort]));
}

describe.each(Object.entries({ ...kustomizeDirs, 'cpu + scale-to-zero': scaleToZeroOverlayDir }))('when Prometheus scrapes the %s rendering', (_name, dir) => {
  const objects = renderKustomization(dir);
  const podMonitors = objects.filter((object) => object.kind === 'PodMonitor').map((object) => object.spec as PodMonitorSpec);
  const api = template(objects, 'rerank-pool-api');
  const worker = template(objects, 'rerank-pool-worker');

  /** The /metrics endpoints the Prometheus Operator would scrape on a pod. */
  function scrapedPorts(pod: PodTemplate): number[] {
    const ports = portNames(pod);
    return podMonitors
      .filter((monitor) => selects(monitor.selector, pod.metadata.labels))
      .flatMap((monitor) => monitor.podMetricsEndpoints)
      .filter((endpoint) => endpoint.path === '/metrics' && endpoint.port !== undefined && ports.has(endpoint.port))
      .map((endpoint) => ports.get(endpoint.port as string) as number);
  }

  it('should scrape the API, which exports the queue gauges the KEDA trigger reads', () => {
    expect(scrapedPorts(api)).toEqual([8080]);
  });

  it("should scrape each worker on its METRICS_PORT", () => {
    const metricsPort = worker.spec.containers[0].env?.find((entry) => entry.name === 'METRICS_PORT')?.value;
    expect(scrapedPorts(worker)).toEqual([Number(metricsPort)]);
  });

  it('should annotate the same ports for a Prometheus that discovers pods by annotation', () => {
    for (const pod of [api, worker]) {
      const annotations = pod.metadata.annotations ?? {};
      expect(annotations['prometheus.io/scrape']).toBe('true');
      expect(annotations['prometheus.io/path']).toBe('/metrics');
      expect(scrapedPorts(pod)).toEqual([Number(annotations['prometheus.io/port'])]);
    }
  });

  it('should not scrape pods outside rerank-pool', () => {
    expect(scrapedPorts({ ...api, metadata: { labels: { 'app.kubernetes.io/name': 'redis' } } })).toEqual([]);
    expect(podContainers(objects.find((object) => object.kind === 'Deployment') as K8sObject).length).toBeGreaterThan(0);
  });
});
