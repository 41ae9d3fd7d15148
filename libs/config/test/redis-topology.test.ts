import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.split('\n').slice(1).map((line) => line.replace(/^\s*-\s*/, ''));
  }
};

describe('when Redis is a cluster or a Sentinel group', () => {
  it('should read host:port lists, with the default port and bracketed IPv6', () => {
    const config = loadConfig({ REDIS_SENTINELS: ' 10.0.0.1:26380 , sentinel-2, [::1]:5000', REDIS_SENTINEL_NAME: 'mymaster' });
    expect(config.redisSentinels).toEqual([
      { host: '10.0.0.1', port: 26380 },
      { host: 'sentinel-2', port: 26379 },
      { host: '::1', port: 5000 },
    ]);
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'redis-0:7000,redis-1' }).redisClusterNodes).toEqual([
      { host: 'redis-0', port: 7000 },
      { host: 'redis-1', port: 6379 },
    ]);
  });

  it('should name every contradiction at start-up', () => {
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2', REDIS_SENTINEL_NAME: 'm' })).toEqual([
      'REDIS_CLUSTER_NODES and REDIS_SENTINELS exclude each other: a Redis Cluster fails over by itself, without Sentinel',
    ]);
    expect(problemsOf({ REDIS_SENTINELS: 'b:2' })).toEqual(['REDIS_SENTINELS needs REDIS_SENTINEL_NAME, the master name the sentinels monitor']);
    expect(problemsOf({ REDIS_SENTINEL_NAME: 'm' })).toEqual(['REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not']);
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://x:6379/3' })).toEqual([
      'REDIS_URL names database 3, but a Redis Cluster has only database 0 (REDIS_CLUSTER_NODES)',
    ]);
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'a:1', REDIS_WAIT_REPLICAS: '1' })[0]).toMatch(/^REDIS_WAIT_REPLICAS is not supported with REDIS_CLUSTER_NODES/);
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'a:99999' })[0]).toMatch(/^REDIS_CLUSTER_NODES must be a comma list of host:port, got "a:99999"/);
  });

});
