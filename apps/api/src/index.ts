export { buildApi } from './build-api.js';
export type { BuildApiOptions } from './build-api.js';
export { startApi } from './start-api.js';
export { API_STOP_BOUND_MS } from './bounded-close.js';
