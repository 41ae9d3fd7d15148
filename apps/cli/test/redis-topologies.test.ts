import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, startSentinelGroup } from './support/redis-topologies.js';
import type { RedisAddress, RedisClusterFixture, SentinelGroupFixture } from './support/redis-topologies.js';

const PREFIX = 'rp-topologies-test';

async function answers(node: RedisAddress): Promise<boolean> {
  const client = new Redis({ ...node, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 500 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function getFrom(node: RedisAddress, key: string): Promise<string | null> {
  const client = new Redis({ ...node, maxRetriesPerRequest: 1 });
  try {
    return await client.get(key);
  } finally {
    client.disconnect();
  }
}

describe('startRedisCluster', () => {
  let cluster: RedisClusterFixture | undefined;
  let client: Cluster | undefined;

  beforeAll(async () => {
    const started = Date.now();
    cluster = await startRedisCluster();
    console.log(`redis cluster (3 masters) formed in ${Date.now() - started} ms`);
  });

  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('forms a cluster an ioredis Cluster client reads and writes right away', async () => {
    expect(cluster!.nodes).toHaveLength(3);
    expect(cluster!.nodesEnv).toBe(cluster!.nodes.map(({ host, port }) => `${host}:${port}`).join(','));
    client = new Cluster(cluster!.nodes);
    await client.set(`${PREFIX}:key`, 'value');
    expect(await client.get(`${PREFIX}:key`)).toBe('value');
  });

  it('keysOnDistinctNodes picks two hash tags whose keys land on different masters', async () => {
    const [a, b] = await cluster!.keysOnDistinctNodes(['a', 'b', 'c', 'd', 'e', 'f']);
    const keyA = `${PREFIX}:{${a}}:x`;
    const keyB = `${PREFIX}:{${b}}:x`;
    await client!.set(keyA, 'A');
    await client!.set(keyB, 'B');
    const [nodeA, nodeB] = [await cluster!.nodeForKey(keyA), await cluster!.nodeForKey(keyB)];
    expect(nodeA).not.toEqual(nodeB);
    // Read on the owning node itself, without cluster routing: the key is there.
    expect(await getFrom(nodeA, keyA)).toBe('A');
    expect(await getFrom(nodeB, keyB)).toBe('B');
    const slot = Number(await client!.cluster('KEYSLOT', keyA));
    expect(cluster!.nodeForSlot(slot)).toEqual(nodeA);
  });

  it('stop ends every node', async () => {
    client!.disconnect();
    client = undefined;
    await cluster!.stop();
    for (const node of cluster!.nodes) expect(await answers(node)).toBe(false);
  });
});

describe('startSentinelGroup', () => {
  let group: SentinelGroupFixture | undefined;
  let client: Redis | undefined;
  let promoted: RedisAddress | undefined;

  beforeAll(async () => {
    const started = Date.now();
    group = await startSentinelGroup();
    console.log(`sentinel group (master, replica, 3 sentinels) ready in ${Date.now() - started} ms`);
  });

  afterAll(async () => {
    client?.disconnect();
    await group?.stop();
  });

  it('promotes the replica after killMaster, and a sentinel client writes to the new master', async () => {
    expect(group!.sentinelsEnv).toBe(group!.sentinels.map(({ host, port }) => `${host}:${port}`).join(','));
    const killed = await group!.killMaster();
    expect(await answers(killed)).toBe(false);
    const { newMaster, ms } = await group!.waitForPromotion(killed, 15_000);
    console.log(`sentinel promotion took ${ms} ms (down-after 1000 ms)`);
    expect(newMaster).not.toEqual(killed);
    promoted = newMaster;
    expect(await group!.master()).toEqual(newMaster);
    client = new Redis({ sentinels: group!.sentinels, name: group!.masterName, maxRetriesPerRequest: 3 });
    await client.set(`${PREFIX}:after-failover`, 'ok');
    expect(await getFrom(newMaster, `${PREFIX}:after-failover`)).toBe('ok');
  });

  it('stop ends every sentinel and data node', async () => {
    client!.disconnect();
    client = undefined;
    await group!.stop();
    for (const node of [...group!.sentinels, promoted!]) expect(await answers(node)).toBe(false);
  });
});
