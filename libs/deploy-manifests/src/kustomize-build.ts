import { spawnSync } from 'node:child_process';
import { isK8sObject, type K8sObject } from './k8s-object.js';
import { parseYamlDocuments } from './yaml-file.js';

export interface RenderOptions {
  /** The kubectl binary. Default: the KUBECTL environment variable, else `kubectl` on PATH. */
  kubectl?: string;
}

/** Rendering is deterministic and the test files each render every overlay: once per process. */
const rendered = new Map<string, readonly K8sObject[]>();

/**
 * Renders a kustomization directory (a base, an overlay, an overlay with components) with
 * `kubectl kustomize`, the renderer `kubectl apply -k` runs, so the tests see exactly what a
 * cluster would get. Throws naming the directory on a kustomize error, and with a clear message
 * when kubectl is missing. Each call returns fresh objects the caller may change.
 */
export function renderKustomization(dir: string, options: RenderOptions = {}): K8sObject[] {
  const kubectl = options.kubectl ?? process.env.KUBECTL ?? 'kubectl';
  const key = `${kubectl}\0${dir}`;
  let objects = rendered.get(key);
  if (!objects) {
    objects = runKustomize(kubectl, dir);
    rendered.set(key, objects);
  }
  return structuredClone(objects) as K8sObject[];
}

function runKustomize(kubectl: string, dir: string): K8sObject[] {
  const result = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? `${kubectl} not found: the kustomizations are rendered with \`kubectl kustomize\`; install kubectl (1.27 or later, which bundles kustomize v5) or point KUBECTL at it`
        : `${kubectl} kustomize ${dir}: ${result.error.message}`,
    );
  }
  if (result.status !== 0) throw new Error(`${kubectl} kustomize ${dir} exited with ${result.status ?? result.signal}: ${result.stderr.trim()}`);
  return parseYamlDocuments(result.stdout, `${kubectl} kustomize ${dir}`).map((document) => {
    if (!isK8sObject(document)) throw new Error(`${kubectl} kustomize ${dir}: a document lacks apiVersion, kind or metadata.name`);
    return document;
  });
}
