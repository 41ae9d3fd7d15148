import { configSchema, ConfigError, loadConfig } from '@rerank-pool/config';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const SECRETS = {
  API_KEYS: 'acme:key-acme-7f3a9c,beta:key-beta-0b1d2e',
  REDIS_URL: 'redis://default:redis-pass-5e6f@cache.internal:6380',
  WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
  AWS_SECRET_ACCESS_KEY: 'aws-secret-9q8w7e',
  RERANK_POOL_API_KEY: 'client-key-3r4t5y',
};
const secretValues = ['key-acme-7f3a9c', 'key-beta-0b1d2e', 'redis-pass-5e6f', SECRETS.WEBHOOK_SECRET, 'aws-secret-9q8w7e', 'client-key-3r4t5y'];

interface ConfigJson {
  settings: { env: string; value: unknown; source: 'env' | 'default'; schema: boolean }[];
}

/** One row of the table: NAME, VALUE, SOURCE separated by runs of spaces. */
function row(stdout: string, name: string): string[] | undefined {
  return stdout
    .split('\n')
    .find((line) => line.startsWith(`${name} `))
    ?.split(/ {2,}/);
}

describe('when a user prints the effective configuration', () => {
  it('should show every setting with its value and source, secrets redacted', async () => {
    const run = await runCli(['config'], { ...SECRETS, PORT: '9091', MAX_DOCUMENTS: ' ', AWS_REGION: 'eu-west-3' });
    expect(run.code, run.stderr).toBe(0);
    for (const spec of Object.values(configSchema)) expect(row(run.stdout, spec.env), spec.env).toBeDefined();
    expect(row(run.stdout, 'PORT')).toEqual(['PORT', '9091', 'env']);
    // Blank counts as unset, as in loadConfig.
    expect(row(run.stdout, 'MAX_DOCUMENTS')).toEqual(['MAX_DOCUMENTS', '1000', 'default']);
    expect(row(run.stdout, 'API_KEYS')).toEqual(['API_KEYS', 'acme:***,beta:***', 'env']);
    expect(row(run.stdout, 'REDIS_URL')).toEqual(['REDIS_URL', 'redis://default:***@cache.internal:6380', 'env']);
    expect(row(run.stdout, 'WEBHOOK_SECRET')).toEqual(['WEBHOOK_SECRET', '***', 'env']);
    expect(row(run.stdout, 'AWS_SECRET_ACCESS_KEY')).toEqual(['AWS_SECRET_ACCESS_KEY', '***', 'env']);
    expect(row(run.stdout, 'RERANK_POOL_API_KEY')).toEqual(['RERANK_POOL_API_KEY', '***', 'env']);
    expect(row(run.stdout, 'AWS_REGION')).toEqual(['AWS_REGION', 'eu-west-3', 'env']);
    for (const secret of secretValues) expect(run.stdout + run.stderr).not.toContain(secret);
  });

  it('should give the same settings as JSON with --json', async () => {
    const run = await runCli(['config', '--json'], { ...SECRETS, PORT: '9091' });
    expect(run.code, run.stderr).toBe(0);
    const { settings } = JSON.parse(run.stdout) as ConfigJson;
    const schemaRows = settings.filter((setting) => setting.schema);
    expect(schemaRows.map((setting) => setting.env)).toEqual(Object.values(configSchema).map((spec) => spec.env));
    const byName = new Map(settings.map((setting) => [setting.env, setting]));
    expect(byName.get('PORT')).toMatchObject({ value: 9091, source: 'env' });
    expect(byName.get('MAX_BATCH_TOKENS')).toMatchObject({ source: 'default' });
    expect(byName.get('API_KEYS')).toMatchObject({ value: [{ tenant: 'acme', key: '***' }, { tenant: 'beta', key: '***' }], source: 'env' });
    for (const secret of secretValues) expect(run.stdout).not.toContain(secret);
  });

  it('should exit non-zero with loadConfig\'s message when a setting is invalid', async () => {
    const bad = { PORT: 'eighty', MAX_DOCUMENTS: '0' };
    const expected = (() => {
      try {
        loadConfig({ ...process.env, ...bad });
      } catch (error) {
        if (error instanceof ConfigError) return error.message;
        throw error;
      }
      throw new Error('loadConfig accepted an invalid configuration');
    })();
    const run = await runCli(['config'], bad);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`rerank-pool config: ${expected}\n`);
  });
});
