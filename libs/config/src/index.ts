export { configSchema } from './config-schema.js';
export type { Config, ConfigSchema, EnvVarSpec } from './config-schema.js';
export { ConfigError } from './config-error.js';
export { loadConfig } from './load-config.js';
export { describeConfig } from './describe-config.js';
export { redactConfig } from './redact.js';
export { WORKER_DRAIN_MS } from './worker-drain.js';
export { redactRedisUrl } from './secret-text.js';
export type { ApiKey } from './parsers.js';
