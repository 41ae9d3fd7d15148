/** A Kubernetes object as read from YAML: only the identifying fields are typed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [key: string]: unknown };
  [key: string]: unknown;
}

export function isK8sObject(value: unknown): value is K8sObject {
  if (typeof value !== 'object' || value === null) return false;
  const { apiVersion, kind, metadata } = value as Partial<K8sObject>;
  return typeof apiVersion === 'string' && typeof kind === 'string' && typeof metadata?.name === 'string';
}

/** The pod template's containers of a workload object (Deployment, StatefulSet, ...), or none. */
export function podContainers(object: K8sObject): Array<Record<string, unknown>> {
  const spec = (object.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template?.spec;
  if (!spec) return [];
  return ['initContainers', 'containers'].flatMap((field) => (spec[field] as Array<Record<string, unknown>> | undefined) ?? []);
}
