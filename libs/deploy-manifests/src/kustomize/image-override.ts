import { podContainers, type K8sObject } from './k8s-object.js';

/** An entry of a kustomization's `images:` list. */
export interface ImageOverride {
  name: string;
  newName?: string;
  newTag?: string;
}

/** Splits `registry:5000/repo:tag` into name and tag; a colon before the last '/' is a port. */
function splitImage(image: string): { name: string; tag?: string } {
  const colon = image.lastIndexOf(':');
  if (colon === -1 || colon < image.lastIndexOf('/')) return { name: image };
  return { name: image.slice(0, colon), tag: image.slice(colon + 1) };
}

/** Rewrites container images whose name matches an override, as kustomize's image transformer does. */
export function applyImageOverrides(objects: K8sObject[], overrides: readonly ImageOverride[]): void {
  for (const container of objects.flatMap(podContainers)) {
    if (typeof container.image !== 'string') continue;
    const { name, tag } = splitImage(container.image);
    const override = overrides.find((entry) => entry.name === name);
    if (!override) continue;
    const newTag = override.newTag ?? tag;
    container.image = `${override.newName ?? name}${newTag === undefined ? '' : `:${newTag}`}`;
  }
}
