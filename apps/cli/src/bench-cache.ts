import { driveBatch, driveHttpLoad, percentile, type RerankRequest } from '@rerank-pool/bench';
import { withBenchService } from './bench-service.js';
import { startRedisServer } from './local-redis.js';

/** Fully cached 1x20 requests timed one at a time. */
const CACHED_LATENCY_SAMPLES = 40;

export interface CacheMeasurement {
  /** The workload as one offline batch, nothing cached yet. */
  coldPairsPerSecond: number;
  /** The same batch again: every pair is in the cache. */
  warmPairsPerSecond: number;
  /** 1x20 requests answered by the API from the cache alone, one at a time. */
  cachedLatency: { p50: number; p95: number };
}

/**
 * The pair-score cache's effect: a batch run twice on a service whose cache is a redis-server of
 * its own (allkeys-lru, as deployed), then single requests whose pairs are all cached.
 */
export async function measureCache(workload: readonly RerankRequest[], modelDir: string, { concurrency, log }: { concurrency: number; log: (line: string) => void }): Promise<CacheMeasurement> {
  const cacheRedis = await startRedisServer({ args: ['--maxmemory', '256mb', '--maxmemory-policy', 'allkeys-lru'] });
  try {
    return await withBenchService({ modelDir, concurrency, scoreCacheUrl: cacheRedis.url }, async ({ baseUrl, model }) => {
      const cold = await driveBatch(workload, { baseUrl, model });
      log(`cache: batch of ${workload.length} lines, cold: ${cold.pairsPerSecond.toFixed(1)} pairs/s`);
      const warm = await driveBatch(workload, { baseUrl, model });
      log(`cache: the same batch again, every pair cached: ${warm.pairsPerSecond.toFixed(1)} pairs/s`);
      const single = workload.map((request) => ({ query: request.query, documents: request.documents.slice(0, 20) }));
      const latencies: number[] = [];
      for (let i = 0; i < CACHED_LATENCY_SAMPLES; i++) {
        const one = await driveHttpLoad([single[i % single.length]!], { baseUrl, model, concurrency: 1 });
        latencies.push(one.latenciesMs[0]!);
      }
      return {
        coldPairsPerSecond: cold.pairsPerSecond,
        warmPairsPerSecond: warm.pairsPerSecond,
        cachedLatency: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
      };
    });
  } finally {
    await cacheRedis.stop();
  }
}
