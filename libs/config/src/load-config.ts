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
  if (problems.length > 0) throw new ConfigError(problems);
  const config = values as Config;
  // Non-enumerable, so spreading or Object.keys sees only settings.
  Object.defineProperty(config, 'toJSON', { value: () => redactConfig(config) });
  Object.defineProperty(config, inspect.custom, { value: () => redactConfig(config) });
  return Object.freeze(config);
}

export function defaultOf(spec: EnvVarSpec<unknown>): string | undefined {
  return typeof spec.default === 'function' ? spec.default() : spec.default;
}
