import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeModel } from '@rerank-pool/model-synth';
import { queueNameForModel, webhookQueueNameForModel } from '@rerank-pool/queue';
import { startRedisCluster } from './support/redis-topologies.js';
import type { RedisAddress, RedisClusterFixture } from './support/redis-topologies.js';
import { runWorkload } from './support/topology-workload.js';
import type { WorkloadScores } from './support/topology-workload.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const WORK = { syncRequests: 200, asyncJobs: 50, batchLines: 2000 };

let cluster: RedisClusterFixture;
let root: string;
let modelIds: string[];
let modelDirs: string[];

/** Every key under `prefix` that one master holds itself (SCAN on that node alone, no routing). */
async function keysOn(node: RedisAddress, prefix: string): Promise<string[]> {
  const redis = new Redis({ ...node, maxRetriesPerRequest: 1 });
  try {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
    return found;
  } finally {
    redis.disconnect();
  }
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  root = await mkdtemp(join(tmpdir(), 'rp-cluster-'));
  // Two models whose hash tags (their ids: folder names with nothing to escape) are owned by
  // different masters, so the test shows the queues spread rather than trusting it.
  modelIds = await cluster.keysOnDistinctNodes(['tiny-a', 'tiny-b', 'tiny-c', 'tiny-d', 'tiny-e', 'tiny-f']);
  modelDirs = modelIds.map((id) => join(root, id));
  await Promise.all(modelDirs.map((outDir, i) => synthesizeModel({ preset: 'tiny', outDir, seed: 31 + i })));
});

afterAll(async () => {
  await cluster?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('on a 3-master Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  let onCluster: WorkloadScores;
  const placement: { model: string; nodes: string[]; keys: number }[] = [];

  it('should serve sync requests (and a score cache), async jobs with webhooks and a batch, two models, with their keys on different masters', async () => {
    onCluster = await runWorkload({
      ...WORK,
      // The pair-score cache on the same cluster (its Redis defaults to noeviction, so allowed).
      env: { REDIS_CLUSTER_NODES: cluster.nodesEnv, SCORE_CACHE_CLUSTER_NODES: cluster.nodesEnv },
      modelDirs,
      modelIds,
      root,
      inspect: async (prefix) => {
        const byNode = await Promise.all(cluster.nodes.map(async (node) => ({ node, keys: await keysOn(node, prefix) })));
        for (const model of modelIds) {
          const own = (key: string) => key.startsWith(`${prefix}:${queueNameForModel(model)}:`) || key.startsWith(`${prefix}:${webhookQueueNameForModel(model)}:`);
          const holding = byNode.filter(({ keys }) => keys.some(own));
          placement.push({ model, nodes: holding.map(({ node }) => `${node.host}:${node.port}`), keys: holding.reduce((sum, { keys }) => sum + keys.filter(own).length, 0) });
        }
      },
    });
    expect(onCluster.sync).toHaveLength(WORK.syncRequests);
    expect(onCluster.jobs).toHaveLength(WORK.asyncJobs);
    expect(onCluster.batch).toHaveLength(WORK.batchLines);
    // Sent again, the first 20 sync requests are answered from the cache on the cluster: every pair.
    expect(onCluster.repeatedCacheHits).toBe(20 * onCluster.sync[0]!.length);
    // Each model's queue and webhook keys all on one master, and the two masters differ.
    for (const { keys, nodes } of placement) {
      expect(keys).toBeGreaterThan(0);
      expect(nodes).toHaveLength(1);
    }
    expect(placement[0].nodes[0]).not.toBe(placement[1].nodes[0]);
  });

  it('should score exactly as a run on a single Redis does', async () => {
    expect(onCluster).toBeDefined();
    const onSingle = await runWorkload({ ...WORK, env: { REDIS_URL }, modelDirs, modelIds, root });
    expect(onCluster.sync).toEqual(onSingle.sync);
    expect(onCluster.jobs).toEqual(onSingle.jobs);
    expect(onCluster.batch).toEqual(onSingle.batch);
  });
});
