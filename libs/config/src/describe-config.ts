import { configSchema } from './config-schema.js';
import type { EnvVarSpec } from './config-schema.js';
import { defaultOf } from './load-config.js';

/** One line per variable, `NAME (default: x)  doc`, for the README and `--help`. */
export function describeConfig(): string {
  const specs = Object.values(configSchema) as EnvVarSpec<unknown>[];
  const width = Math.max(...specs.map((spec) => spec.env.length));
  return specs
    .map((spec) => {
      const fallback = defaultOf(spec);
      const shownDefault = fallback === undefined ? 'unset' : `default ${fallback}`;
      return `${spec.env.padEnd(width)}  ${spec.doc} (${shownDefault})`;
    })
    .join('\n');
}
