import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readYamlDocuments, readYamlFile } from '../yaml-file.js';
import { applyImageOverrides, type ImageOverride } from './image-override.js';
import { isK8sObject, objectKey, type K8sObject } from './k8s-object.js';
import { strategicMerge } from './strategic-merge.js';

interface KustomizationFile {
  apiVersion: string;
  kind: 'Kustomization' | 'Component';
  resources?: string[];
  components?: string[];
  patches?: Array<{ path: string; [key: string]: unknown }>;
  images?: ImageOverride[];
}

// Fields outside this set would make kustomize do something this renderer does not, so a
// kustomization using them fails here instead of rendering something kubectl would not.
const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'components', 'patches', 'images']);

function readKustomization(dir: string): KustomizationFile {
  const path = join(dir, 'kustomization.yaml');
  const file = readYamlFile(path) as KustomizationFile;
  for (const field of Object.keys(file)) {
    if (!SUPPORTED_FIELDS.has(field)) throw new Error(`${path}: field ${field} is not supported by the offline renderer`);
  }
  for (const patch of file.patches ?? []) {
    const extra = Object.keys(patch).filter((key) => key !== 'path');
    if (extra.length > 0) throw new Error(`${path}: patch ${patch.path} uses ${extra.join(', ')}; only path patches are supported`);
  }
  return file;
}

function readObjects(path: string): K8sObject[] {
  return readYamlDocuments(path).map((document) => {
    if (!isK8sObject(document)) throw new Error(`${path}: a document lacks apiVersion, kind or metadata.name`);
    return document;
  });
}

/**
 * Kustomize's order: resources, then components (each transforming everything gathered so far),
 * then this level's patches and images. A patch names its target by kind and metadata.name.
 */
function build(dir: string, inherited: K8sObject[]): K8sObject[] {
  const file = readKustomization(dir);
  let objects = [...inherited];
  for (const entry of file.resources ?? []) {
    const path = resolve(dir, entry);
    objects.push(...(statSync(path).isDirectory() ? build(path, []) : readObjects(path)));
  }
  for (const entry of file.components ?? []) objects = build(resolve(dir, entry), objects);
  for (const { path } of file.patches ?? []) {
    for (const patch of readObjects(resolve(dir, path))) {
      const at = objects.findIndex((object) => objectKey(object) === objectKey(patch));
      if (at === -1) throw new Error(`${join(dir, path)}: no ${objectKey(patch)} to patch`);
      objects[at] = strategicMerge(objects[at], patch);
    }
  }
  applyImageOverrides(objects, file.images ?? []);
  return objects;
}

/** Renders a kustomization directory (a base or an overlay) to its list of objects, offline. */
export function loadKustomization(dir: string): K8sObject[] {
  const objects = build(dir, []);
  const keys = objects.map(objectKey);
  const duplicate = keys.find((key, index) => keys.indexOf(key) !== index);
  if (duplicate) throw new Error(`${dir}: ${duplicate} is defined twice`);
  return objects;
}
