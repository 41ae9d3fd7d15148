import { inspect } from 'node:util';
import { ConfigError } from './config-error.js';
import { configSchema } from './config-schema.js';
import type { Config, EnvVarSpec } from './config-schema.js';
import { ParseProblem } from './parsers.js';
import { redactConfig } from './redact.js';

/**
 * Reads every variable of `configSchema` from `env`. Empty strings count as unset, so
 * `FOO=` in a compose file falls back to the default. Throws one `ConfigError` naming every bad
 * variable. The result redacts its secrets when logged (`JSON.stringify`, `console.log`, pino).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [field, spec] of Object.entries(configSchema) as [string, EnvVarSpec<unknown>][]) {
    const given = env[spec.env];
    const raw = given === undefined || given.trim() === '' ? defaultOf(spec) : given;
    if (raw === undefined) {
      values[field] = undefined;
      continue;
    }
    try {
      values[field] = spec.parse(raw);
    } catch (error) {
      if (!(error instanceof ParseProblem)) throw error;
      problems.push(`${spec.env} ${error.message}`);
    }
  }
  if (problems.length === 0) problems.push(...redisTopologyProblems(values as Config));
  if (problems.length > 0) throw new ConfigError(problems);
  const config = values as Config;
  // Non-enumerable, so spreading or Object.keys sees only settings.
  Object.defineProperty(config, 'toJSON', { value: () => redactConfig(config) });
  Object.defineProperty(config, inspect.custom, { value: () => redactConfig(config) });
  return Object.freeze(config);
}

/** What no single variable's parser can see: Redis settings that contradict each other. */
function redisTopologyProblems(config: Config): string[] {
  const problems: string[] = [];
  const db = new URL(config.redisUrl).pathname.slice(1);
  if (config.redisClusterNodes && config.redisSentinels) problems.push('REDIS_CLUSTER_NODES and REDIS_SENTINELS exclude each other: a Redis Cluster fails over by itself, without Sentinel');
  if (config.redisSentinels && !config.redisSentinelName) problems.push('REDIS_SENTINELS needs REDIS_SENTINEL_NAME, the master name the sentinels monitor');
  if (config.redisSentinelName && !config.redisSentinels) problems.push('REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not');
  if (config.redisClusterNodes && db !== '' && db !== '0') problems.push(`REDIS_URL names database ${db}, but a Redis Cluster has only database 0 (REDIS_CLUSTER_NODES)`);
  if (config.redisClusterNodes && config.redisWaitReplicas > 0) problems.push('REDIS_WAIT_REPLICAS is not supported with REDIS_CLUSTER_NODES: WAIT counts the replicas of one node, and a job\'s keys may live on any');
  return problems;
}

export function defaultOf(spec: EnvVarSpec<unknown>): string | undefined {
  return typeof spec.default === 'function' ? spec.default() : spec.default;
}
