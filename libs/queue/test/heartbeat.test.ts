import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { listLiveWorkers, publishHeartbeat, removeHeartbeat } from '../src/index.js';
import { connection, deleteKeys, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix();
const redis = new Redis(connection);

afterAll(async () => {
  await redis.quit();
  await deleteKeys(prefix);
});

describe('when workers publish heartbeats', () => {
  it('should list the live ones of a model until their TTL passes or they leave', async () => {
    await publishHeartbeat(redis, prefix, { model: 'org/tiny', workerId: 'w1', maxLength: 512 }, 5000);
    await publishHeartbeat(redis, prefix, { model: 'org/tiny', workerId: 'w2', maxLength: 512 }, 150);
    await publishHeartbeat(redis, prefix, { model: 'org/other', workerId: 'w3' }, 5000);

    const live = await listLiveWorkers(redis, prefix, 'org/tiny');
    expect(live.map((worker) => worker.workerId).sort()).toEqual(['w1', 'w2']);
    expect(live[0].maxLength).toBe(512);

    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await listLiveWorkers(redis, prefix, 'org/tiny')).map((worker) => worker.workerId)).toEqual(['w1']);
    await removeHeartbeat(redis, prefix, 'org/tiny', 'w1');
    expect(await listLiveWorkers(redis, prefix, 'org/tiny')).toEqual([]);
    expect(await listLiveWorkers(redis, prefix, 'org/nobody')).toEqual([]);
  });
});
