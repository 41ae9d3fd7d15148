import { configSchema } from './config-schema.js';
import type { Config, EnvVarSpec } from './config-schema.js';

/** A copy of the config that is safe to print or log: every variable with `redact` goes through it. */
export function redactConfig(config: Config): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...config };
  for (const [key, spec] of Object.entries(configSchema) as [string, EnvVarSpec<unknown>][]) {
    if (spec.redact && copy[key] !== undefined) copy[key] = spec.redact(copy[key]);
  }
  return copy;
}
