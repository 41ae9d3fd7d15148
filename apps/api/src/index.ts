export { buildApi } from './build-api.js';
export type { BuildApiOptions } from './build-api.js';
export { startApi } from './start-api.js';
export { ModelRegistry } from './model-registry.js';
export { createAuthenticator, DEFAULT_TENANT } from './authenticator.js';
