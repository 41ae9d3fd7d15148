import type { K8sObject } from './k8s-object.js';

/**
 * List fields of built-in Kubernetes types that a strategic merge patch merges item by item, and
 * the key that pairs items (from the types' `patchMergeKey` tags). Other lists are replaced whole,
 * as are all lists of custom resources (kustomize has no schema for them).
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
};

/** Built-in API groups: the core group (no '/') and the *.k8s.io or unqualified groups. */
function isBuiltIn(apiVersion: string): boolean {
  if (!apiVersion.includes('/')) return true;
  const group = apiVersion.slice(0, apiVersion.indexOf('/'));
  return !group.includes('.') || group.endsWith('.k8s.io');
}

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeValue(base: unknown, patch: unknown, field: string, builtIn: boolean, path: string): unknown {
  if (isPlain(base) && isPlain(patch)) return mergeMaps(base, patch, builtIn, path);
  const mergeKey = builtIn ? MERGE_KEYS[field] : undefined;
  if (Array.isArray(base) && Array.isArray(patch) && mergeKey) return mergeLists(base, patch, mergeKey, builtIn, path);
  return structuredClone(patch);
}

function mergeMaps(base: Plain, patch: Plain, builtIn: boolean, path: string): Plain {
  const merged: Plain = structuredClone(base);
  for (const [key, value] of Object.entries(patch)) {
    // Directives ($patch: delete/replace, $setElementOrder, ...) change merge semantics; refusing
    // them keeps this renderer from silently disagreeing with kustomize.
    if (key.startsWith('$')) throw new Error(`${path}: strategic merge directive ${key} is not supported`);
    if (value === null) delete merged[key];
    else merged[key] = mergeValue(base[key], value, key, builtIn, `${path}.${key}`);
  }
  return merged;
}

function mergeLists(base: unknown[], patch: unknown[], mergeKey: string, builtIn: boolean, path: string): unknown[] {
  const merged = structuredClone(base) as Plain[];
  for (const item of patch) {
    if (!isPlain(item) || item[mergeKey] === undefined) throw new Error(`${path}: every patch item needs ${mergeKey}`);
    const at = merged.findIndex((existing) => existing[mergeKey] === item[mergeKey]);
    if (at === -1) merged.push(structuredClone(item));
    else merged[at] = mergeMaps(merged[at], item, builtIn, `${path}[${String(item[mergeKey])}]`);
  }
  return merged;
}

/** Applies a strategic merge patch (the subset kustomize overlays here use) to `target`. */
export function strategicMerge(target: K8sObject, patch: K8sObject): K8sObject {
  return mergeMaps(target, patch, isBuiltIn(target.apiVersion), `${target.kind}/${target.metadata.name}`) as K8sObject;
}
