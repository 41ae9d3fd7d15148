export { redisOptionsFromUrl, reconnectDelay } from './redis-options.js';
export { isClusterTarget, redisTarget } from './redis-target.js';
export type { ClusterTarget, RedisNode, RedisSettings, RedisTarget } from './redis-target.js';
export { dataServers, isCluster, openRedis, REQUEST_COMMAND_TIMEOUT_MS, requestRedisOptions } from './open-redis.js';
export type { ConnectionOverrides, RedisClient } from './open-redis.js';
export { bullConnection } from './bull-connection.js';
export { closeRedis } from './close-redis.js';
export { inOneWrite } from './one-write.js';
export type { BullConnection } from './bull-connection.js';
