import { configSchema } from '@rerank-pool/config';
import { describe, expect, it } from 'vitest';
import { kustomizeDirs, loadComposeFile, renderKustomization, podContainers, type ComposeService, type K8sObject } from '../src/index.js';

const compose = loadComposeFile();

function environment(service: ComposeService): Record<string, string> {
  const entries = Array.isArray(service.environment)
    ? service.environment.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)])
    : Object.entries(service.environment ?? {}).map(([name, value]) => [name, String(value)]);
  return Object.fromEntries(entries);
}

function words(value: unknown): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : String(value).split(/\s+/).filter(Boolean);
}

/**
 * The mc commands a one-shot runs, as word lists: the lines (or `&&` / `;` parts) of an `sh -c`
 * script (entrypoint in list form), or the image's own `mc` entrypoint with `command` as its
 * arguments. Quotes are stripped and nothing is expanded, which is all these checks need.
 */
function mcCommands(service: ComposeService): string[][] {
  const entrypoint = words(service.entrypoint);
  const command = words(service.command);
  if (entrypoint.length === 0) return [['mc', ...command]];
  if (!/(^|\/)(ba)?sh$/.test(entrypoint[0])) return [[...entrypoint, ...command]];
  const script = [...entrypoint.slice(1).filter((word) => !word.startsWith('-')), ...(Array.isArray(service.command) ? service.command.map(String) : [String(service.command ?? '')])].join('\n');
  return script
    .split(/\n|&&|;/)
    .map((part) => (part.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((word) => word.replace(/^(["'])(.*)\1$/, '$2')))
    .filter((part) => part[0] === 'mc');
}

/** Where an mc alias points: `mc alias set <alias> <url> …` in the script, or MC_HOST_<alias> without its credentials. */
function aliasUrl(service: ComposeService, alias: string): string | undefined {
  const set = mcCommands(service).find((command) => command[1] === 'alias' && command[2] === 'set' && command[3] === alias);
  if (set) return set[4];
  const host = environment(service)[`MC_HOST_${alias}`];
  if (host === undefined) return undefined;
  const url = new URL(host);
  return `${url.protocol}//${url.host}`;
}

describe('when running the compose stack with its MinIO batch store', () => {
  const { api, minio, worker } = compose.services;
  const init = compose.services['minio-init'];
  const apiEnv = environment(api);

  it('should serve MinIO from a named volume, with a healthcheck and its console published', () => {
    expect(minio.image).toMatch(/^minio\/minio:RELEASE\./);
    expect(words(minio.command)).toEqual(['server', '/data', '--console-address', ':9001']);
    expect(minio.volumes).toContain('minio-data:/data');
    expect(compose.volumes).toHaveProperty('minio-data');
    expect(words((minio.healthcheck as { test: unknown }).test).join(' ')).toMatch(/\bmc ready local\b|\/minio\/health\/live/);
    expect(minio.ports).toContain('9001:9001');
  });

  it('should create the bucket named in the API BATCH_STORE_URL, idempotently, at the API endpoint', () => {
    expect(init.image).toMatch(/^minio\/mc:RELEASE\./);
    const storeUrl = new URL(configSchema.batchStoreUrl.parse(apiEnv.BATCH_STORE_URL));
    expect(storeUrl.protocol).toBe('s3:');
    const made = mcCommands(init).filter((command) => command[1] === 'mb');
    expect(made).toHaveLength(1);
    const [mb] = made;
    // Without --ignore-existing (-p) the second `docker compose up` would fail and hold the API back.
    expect(mb.some((word) => word === '--ignore-existing' || word === '-p')).toBe(true);
    const [alias, bucket] = (mb.at(-1) ?? '').split('/');
    expect(bucket).toBe(storeUrl.hostname);
    expect(aliasUrl(init, alias)).toBe(apiEnv.AWS_ENDPOINT_URL_S3);
    expect(new URL(apiEnv.AWS_ENDPOINT_URL_S3).hostname).toBe('minio');
  });

  it('should run the init once MinIO is healthy, and the API once the init has succeeded', () => {
    expect(init.depends_on).toMatchObject({ minio: { condition: 'service_healthy' } });
    expect(init.restart).toBe('no');
    expect(api.depends_on).toMatchObject({ 'minio-init': { condition: 'service_completed_successfully' } });
  });

  it("should sign the API and the init in with MinIO's root user", () => {
    const root = environment(minio);
    expect(root.MINIO_ROOT_USER).toMatch(/^\$\{MINIO_ROOT_USER:-.+\}$/);
    expect(root.MINIO_ROOT_PASSWORD).toMatch(/^\$\{MINIO_ROOT_PASSWORD:-.{8,}\}$/);
    expect(apiEnv).toMatchObject({ AWS_ACCESS_KEY_ID: root.MINIO_ROOT_USER, AWS_SECRET_ACCESS_KEY: root.MINIO_ROOT_PASSWORD, AWS_REGION: 'us-east-1' });
    expect(environment(init)).toMatchObject({ MINIO_ROOT_USER: root.MINIO_ROOT_USER, MINIO_ROOT_PASSWORD: root.MINIO_ROOT_PASSWORD });
  });

  it('should give the workers neither the store nor its credentials', () => {
    for (const service of [worker, compose.services['model-pull']]) {
      expect(Object.keys(environment(service)).filter((name) => name.startsWith('BATCH_') || name.startsWith('AWS_'))).toEqual([]);
    }
  });
});

type EnvSource = { from: 'value' } | { from: 'ConfigMap' | 'Secret'; name: string };

interface ContainerEnv {
  source: EnvSource;
  value?: string;
}

interface EnvFrom {
  configMapRef?: { name: string };
  secretRef?: { name: string };
}

interface EnvEntry {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string } };
}

/** What a container's environment holds and where each variable comes from, with Kubernetes' precedence (env over envFrom, later envFrom over earlier). */
function containerEnv(objects: K8sObject[], container: Record<string, unknown>): Map<string, ContainerEnv> {
  const data = (kind: 'ConfigMap' | 'Secret', name: string): Record<string, string> => {
    const object = objects.find((candidate) => candidate.kind === kind && candidate.metadata.name === name);
    if (!object) throw new Error(`${kind}/${name} missing`);
    const encoded = Object.entries((object.data as Record<string, string> | undefined) ?? {});
    const decoded = kind === 'Secret' ? encoded.map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]) : encoded;
    return { ...Object.fromEntries(decoded), ...((object.stringData as Record<string, string> | undefined) ?? {}) };
  };
  const env = new Map<string, ContainerEnv>();
  for (const entry of (container.envFrom as EnvFrom[] | undefined) ?? []) {
    const [kind, name] = entry.configMapRef ? (['ConfigMap', entry.configMapRef.name] as const) : (['Secret', entry.secretRef?.name ?? ''] as const);
    for (const [key, value] of Object.entries(data(kind, name))) env.set(key, { source: { from: kind, name }, value });
  }
  for (const entry of (container.env as EnvEntry[] | undefined) ?? []) {
    const ref = entry.valueFrom?.configMapKeyRef ?? entry.valueFrom?.secretKeyRef;
    const kind = entry.valueFrom?.configMapKeyRef ? 'ConfigMap' : 'Secret';
    if (ref) env.set(entry.name, { source: { from: kind, name: ref.name }, value: data(kind, ref.name)[ref.key] });
    else env.set(entry.name, { source: { from: 'value' }, value: entry.value });
  }
  return env;
}

describe.each(Object.entries(kustomizeDirs))('when configuring the batch store of the %s API pods', (_name, dir) => {
  const objects = renderKustomization(dir);
  const api = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'rerank-pool-api') as K8sObject;
  const env = containerEnv(objects, podContainers(api)[0]);

  it('should point BATCH_STORE_URL at an s3:// bucket, shared by every replica', () => {
    const value = env.get('BATCH_STORE_URL')?.value ?? '';
    expect(new URL(configSchema.batchStoreUrl.parse(value)).protocol).toBe('s3:');
    expect(env.get('AWS_REGION')?.value).toBe('us-east-1');
  });

  it('should take the AWS credentials from a Secret, never a ConfigMap or a literal', () => {
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      expect(env.get(name)?.source).toMatchObject({ from: 'Secret' });
    }
  });
});
