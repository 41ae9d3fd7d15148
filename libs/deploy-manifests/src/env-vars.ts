import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { configSchema } from '@rerank-pool/config';
import { loadComposeFile, type ComposeFile } from './compose-file.js';
import { envInstructionNames, parseDockerfile } from './dockerfile.js';
import { podContainers, type K8sObject } from './k8s-object.js';
import { renderKustomization } from './kustomize-build.js';
import { composeFilePath, composeOverridePaths, dockerfilePaths, kustomizeDirs, redisTopologyOverlayDirs, repoRoot } from './repo-paths.js';

/** One environment variable a manifest sets for the app, and where. */
export interface EnvVarUse {
  name: string;
  source: string;
}

/**
 * Variables the app reads outside `configSchema`: the OpenTelemetry SDK's standard OTEL_*, the
 * Hugging Face Hub conventions (HF_*, read by libs/model-hub), the AWS SDK's standard AWS_*
 * (credentials, region and AWS_ENDPOINT_URL_S3 of an s3:// BATCH_STORE_URL, read by
 * libs/object-store) and Node's own NODE_*.
 */
const ALLOWED_PREFIXES = ['OTEL_', 'HF_', 'AWS_', 'NODE_'];
const SCHEMA_NAMES = new Set<string>(Object.values(configSchema).map((spec) => spec.env));

export function isKnownEnvVar(name: string): boolean {
  return SCHEMA_NAMES.has(name) || ALLOWED_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** Repositories of the app's images, as compose and the kustomizations name them. */
const APP_IMAGES = new Set(['rerank-pool', 'rerank-pool-cuda']);

/** `ghcr.io/org/rerank-pool:0.1.0` -> `rerank-pool`: the last path segment without tag or digest. */
function imageRepository(image: string): string {
  return image.slice(image.lastIndexOf('/') + 1).split(/[:@]/)[0];
}

/**
 * Services that run the rerank-pool image (built here, or named by its repository); Redis, MinIO
 * and its mc init job, Jaeger and friends have their own variables.
 */
function appServices(compose: ComposeFile): Array<[string, ComposeFile['services'][string]]> {
  return Object.entries(compose.services).filter(
    ([, service]) => service.build !== undefined || (service.image !== undefined && APP_IMAGES.has(imageRepository(service.image))),
  );
}

export function composeEnvVars(compose: ComposeFile, source = relative(repoRoot, composeFilePath)): EnvVarUse[] {
  return environmentOf(appServices(compose), source);
}

/**
 * The variables an override file (`docker compose -f docker-compose.yml -f <it>`) sets for the
 * app: its entries for services that are app services of the base file (it repeats only what it
 * changes, not their image or build).
 */
export function composeOverrideEnvVars(path: string): EnvVarUse[] {
  const apps = new Set(appServices(loadComposeFile()).map(([name]) => name));
  return environmentOf(Object.entries(loadComposeFile(path).services).filter(([name]) => apps.has(name)), relative(repoRoot, path));
}

function environmentOf(services: Array<[string, ComposeFile['services'][string]]>, source: string): EnvVarUse[] {
  return services.flatMap(([name, service]) => {
    const environment = service.environment ?? {};
    const names = Array.isArray(environment) ? environment.map((entry) => entry.split('=')[0]) : Object.keys(environment);
    return names.map((variable) => ({ name: variable, source: `${source} services.${name}` }));
  });
}

type EnvFromSource = { configMapRef?: { name: string }; secretRef?: { name: string } };

/** `Kind/name` of the ConfigMaps and Secrets some container loads whole with envFrom. */
function envFromSources(objects: readonly K8sObject[]): Set<string> {
  const refs = objects.flatMap(podContainers).flatMap((container) => (container.envFrom as EnvFromSource[] | undefined) ?? []);
  return new Set(refs.flatMap((ref) => [ref.configMapRef && `ConfigMap/${ref.configMapRef.name}`, ref.secretRef && `Secret/${ref.secretRef.name}`].filter((name): name is string => !!name)));
}

/**
 * Keys of the ConfigMaps and Secrets the app loads whole with envFrom, and container env entries.
 * Other ConfigMaps (the Grafana dashboards) are not the app's environment.
 */
export function kubernetesEnvVars(objects: readonly K8sObject[], source: string): EnvVarUse[] {
  const loaded = envFromSources(objects);
  return objects.flatMap((object) => {
    const where = `${source} ${object.kind}/${object.metadata.name}`;
    if (object.kind === 'ConfigMap' || object.kind === 'Secret') {
      if (!loaded.has(`${object.kind}/${object.metadata.name}`)) return [];
      const keys = ['data', 'stringData', 'binaryData'].flatMap((field) => Object.keys((object[field] as object | undefined) ?? {}));
      return keys.map((name) => ({ name, source: where }));
    }
    return podContainers(object).flatMap((container) =>
      ((container.env as Array<{ name: string }> | undefined) ?? []).map(({ name }) => ({ name, source: `${where} ${String(container.name)}` })),
    );
  });
}

export function dockerfileEnvVars(path: string): EnvVarUse[] {
  const { stages } = parseDockerfile(readFileSync(path, 'utf8'));
  const runtime = stages[stages.length - 1];
  return runtime.instructions
    .filter((instruction) => instruction.keyword === 'ENV')
    .flatMap((instruction) => envInstructionNames(instruction).map((name) => ({ name, source: `${relative(repoRoot, path)}:${instruction.line}` })));
}

/** Every variable the repository's compose files, kustomizations and runtime images set for the app. */
export function envVarsUsed(): EnvVarUse[] {
  return [
    ...composeEnvVars(loadComposeFile()),
    ...composeOverridePaths.flatMap(composeOverrideEnvVars),
    ...Object.entries({ ...kustomizeDirs, ...redisTopologyOverlayDirs }).flatMap(([name, dir]) => kubernetesEnvVars(renderKustomization(dir), `k8s ${name}`)),
    ...Object.values(dockerfilePaths).flatMap(dockerfileEnvVars),
  ];
}

/** The uses whose variable neither the config schema nor the allowed conventions know. */
export function unknownEnvVars(uses: readonly EnvVarUse[]): EnvVarUse[] {
  return uses.filter((use) => !isKnownEnvVar(use.name));
}
