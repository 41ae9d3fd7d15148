import { configSchema, loadConfig, redactConfig } from '@rerank-pool/config';
import type { EnvVarSpec } from '@rerank-pool/config';
import { parseCommandArgs } from '../args.js';
import { UsageError } from '../cli-error.js';

export const usage = 'config [--json]   (every setting with its effective value and source; secrets redacted)';

const ARGS = {
  json: { type: 'boolean', default: false, description: 'Print the settings as JSON on stdout' },
} as const;

/** What a hidden value reads as (the config's own redaction shows the same). */
const HIDDEN = '***';

/**
 * Standard variables read by libraries rather than by the config schema (the AWS SDK's for
 * s3:// stores, the Hugging Face Hub's, OpenTelemetry's) and the CLI's own client settings.
 * Only the set ones are shown, and their values only when known to be harmless: any other
 * (AWS_SECRET_ACCESS_KEY, HF_TOKEN, OTEL_EXPORTER_OTLP_HEADERS, a new one) is hidden.
 */
const PASSED_THROUGH = /^(AWS_|HF_|OTEL_)/;
const CLIENT_SETTINGS = ['RERANK_POOL_URL', 'RERANK_POOL_API_KEY'];
const SHOWN = new Set([
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
  'AWS_S3_FORCE_PATH_STYLE',
  'AWS_PROFILE',
  'AWS_CA_BUNDLE',
  'HF_HOME',
  'HF_ENDPOINT',
  'HF_HUB_OFFLINE',
  'OTEL_SERVICE_NAME',
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'RERANK_POOL_URL',
]);

export interface SettingRow {
  env: string;
  /** The parsed value as the config's redaction prints it; null when unset. */
  value: unknown;
  source: 'env' | 'default';
  /** False for variables read by libraries outside the config schema. */
  schema: boolean;
}

/** Same rule as loadConfig: an empty or blank value counts as unset. */
function given(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name];
  return value !== undefined && value.trim() !== '';
}

export function effectiveSettings(env: NodeJS.ProcessEnv): SettingRow[] {
  // Throws loadConfig's own ConfigError (every bad variable named) before anything is printed.
  const redacted = redactConfig(loadConfig(env));
  const rows: SettingRow[] = (Object.entries(configSchema) as [string, EnvVarSpec<unknown>][]).map(([field, spec]) => ({
    env: spec.env,
    value: redacted[field] ?? null,
    source: given(env, spec.env) ? 'env' : 'default',
    schema: true,
  }));
  const known = new Set(rows.map((row) => row.env));
  const others = Object.keys(env)
    .filter((name) => !known.has(name) && (PASSED_THROUGH.test(name) || CLIENT_SETTINGS.includes(name)) && given(env, name))
    .sort();
  for (const name of others) rows.push({ env: name, value: SHOWN.has(name) ? env[name]! : HIDDEN, source: 'env', schema: false });
  return rows;
}

/** Lists as they are written in the environment (`a,b`, `tenant:key`), numbers and strings as is. */
function shown(value: unknown): string {
  if (value === null) return '(unset)';
  if (Array.isArray(value)) return value.map((item) => (typeof item === 'object' && item !== null ? Object.values(item).join(':') : String(item))).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function table(rows: SettingRow[]): string {
  const cells = rows.map((row) => [row.env, shown(row.value), row.source] as const);
  const header = ['SETTING', 'VALUE', 'SOURCE'] as const;
  const nameWidth = Math.max(header[0].length, ...cells.map(([name]) => name.length));
  const valueWidth = Math.max(header[1].length, ...cells.map(([, value]) => value.length));
  const line = ([name, value, source]: readonly [string, string, string]) => `${name.padEnd(nameWidth)}  ${value.padEnd(valueWidth)}  ${source}\n`;
  const schemaRows = cells.filter((_, index) => rows[index]!.schema);
  const otherRows = cells.filter((_, index) => !rows[index]!.schema);
  const others = otherRows.length > 0 ? `\nread by libraries and clients:\n${otherRows.map(line).join('')}` : '';
  return `${line(header)}${schemaRows.map(line).join('')}${others}`;
}

/** Prints the effective configuration: what `api`, `worker` and `dev` would run with here. */
export async function config(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('config', argv, ARGS);
  if (positionals.length > 0) throw new UsageError(`config: takes no arguments, got ${positionals.join(' ')}`);
  const rows = effectiveSettings(process.env);
  process.stdout.write(values.json ? `${JSON.stringify({ settings: rows })}\n` : table(rows));
  return 0;
}
