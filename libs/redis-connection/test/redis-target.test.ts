import { describe, expect, it } from 'vitest';
import { isClusterTarget, redisTarget } from '../src/index.js';

describe('when the settings name a cluster or a Sentinel group', () => {
  it("should connect with REDIS_URL's credentials, TLS and database, not its host", () => {
    const sentinel = redisTarget({ redisUrl: 'rediss://u:p%40ss@ignored.example:6380/2', redisSentinels: [{ host: 's1', port: 1 }], redisSentinelName: 'mymaster' });
    expect(isClusterTarget(sentinel)).toBe(false);
    expect(sentinel).toMatchObject({ sentinels: [{ host: 's1', port: 1 }], name: 'mymaster', username: 'u', password: 'p@ss', db: 2, tls: { servername: 'ignored.example' } });
    expect(sentinel).not.toHaveProperty('host');
    // Off on purpose: its +switch-master disconnect can end a reconnecting client for good.
    expect(sentinel).not.toHaveProperty('failoverDetector');

    const cluster = redisTarget({ redisUrl: 'redis://:secret@ignored:1', redisClusterNodes: [{ host: 'n1', port: 7000 }] });
    expect(isClusterTarget(cluster)).toBe(true);
    expect(cluster).toMatchObject({ clusterNodes: [{ host: 'n1', port: 7000 }], nodeOptions: { password: 'secret' } });
    expect((cluster as { nodeOptions: object }).nodeOptions).not.toHaveProperty('host');
  });

  it('should keep one server as REDIS_URL says', () => {
    expect(redisTarget({ redisUrl: 'redis://db.example:6390/4' })).toMatchObject({ host: 'db.example', port: 6390, db: 4 });
  });
});
