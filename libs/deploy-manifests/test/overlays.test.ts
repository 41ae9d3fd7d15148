import { describe, expect, it } from 'vitest';
import { kustomizeDirs, renderKustomization, podContainers, type K8sObject } from '../src/index.js';

interface Rendered {
  objects: K8sObject[];
  worker: Record<string, unknown>;
  workerPod: { nodeSelector?: Record<string, string>; tolerations?: Array<Record<string, string>> };
  api: Record<string, unknown>;
}

function render(dir: string): Rendered {
  const objects = renderKustomization(dir);
  const deployment = (name: string) => objects.find((object) => object.kind === 'Deployment' && object.metadata.name === name) as K8sObject;
  const worker = deployment('rerank-pool-worker');
  return {
    objects,
    worker: podContainers(worker)[0],
    workerPod: (worker.spec as { template: { spec: Rendered['workerPod'] } }).template.spec,
    api: podContainers(deployment('rerank-pool-api'))[0],
  };
}

function env(container: Record<string, unknown>, name: string): string | undefined {
  return (container.env as Array<{ name: string; value: string }>).find((entry) => entry.name === name)?.value;
}

const cpu = render(kustomizeDirs.cpu);
const gpu = render(kustomizeDirs.gpu);

describe('when comparing the gpu overlay with the cpu overlay', () => {
  it('should request one NVIDIA GPU per worker only in gpu', () => {
    expect(gpu.worker.resources).toMatchObject({ limits: { 'nvidia.com/gpu': '1' } });
    expect(JSON.stringify(cpu.objects)).not.toContain('nvidia.com/gpu');
  });

  it('should set EXECUTION_PROVIDER=cuda on gpu workers, overriding the ConfigMap', () => {
    expect(env(gpu.worker, 'EXECUTION_PROVIDER')).toBe('cuda');
    expect(env(cpu.worker, 'EXECUTION_PROVIDER')).toBeUndefined();
    const config = cpu.objects.find((object) => object.kind === 'ConfigMap') as K8sObject & { data: Record<string, string> };
    expect(config.data.EXECUTION_PROVIDER).toBe('cpu');
  });

  it('should schedule gpu workers on GPU nodes, tolerating their taint', () => {
    expect(gpu.workerPod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(gpu.workerPod.tolerations).toContainEqual(expect.objectContaining({ key: 'nvidia.com/gpu', effect: 'NoSchedule' }));
    expect(cpu.workerPod.nodeSelector).toBeUndefined();
    expect(cpu.workerPod.tolerations).toBeUndefined();
  });

  it('should run the CUDA image for gpu workers and the CPU image everywhere else', () => {
    expect(gpu.worker.image).toMatch(/:[^/]*cuda$/);
    expect(cpu.worker.image).not.toMatch(/cuda/);
    expect(gpu.api.image).toBe(cpu.api.image);
    expect(cpu.api.image).toMatch(/^[^:]+\/rerank-pool:[\w.-]+$/);
  });

  it('should keep the worker probes and env of the base when patching the container', () => {
    expect(gpu.worker.livenessProbe).toEqual(cpu.worker.livenessProbe);
    expect(env(gpu.worker, 'METRICS_PORT')).toBe('9464');
  });
});
