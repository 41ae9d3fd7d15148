import type { Config } from './config-schema.js';

const REDACTED = '***';

/** The URL with its password (and user, which can be a token on managed Redis) hidden. */
export function redactRedisUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = REDACTED;
    return url.toString();
  } catch {
    return REDACTED;
  }
}

/** A copy of the config that is safe to print or log. */
export function redactConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    redisUrl: redactRedisUrl(config.redisUrl),
    apiKeys: config.apiKeys?.map(({ tenant }) => ({ tenant, key: REDACTED })),
    webhookSecret: config.webhookSecret === undefined ? undefined : REDACTED,
  };
}
