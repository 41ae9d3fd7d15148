import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeSchemaErrors, loadComposeFile, readYamlFile, repoRoot, WORKER_DRAIN_SECONDS } from '../src/index.js';

const compose = loadComposeFile();

function seconds(duration: unknown): number {
  const match = /^(\d+)s$/.exec(String(duration));
  if (!match) throw new Error(`unexpected duration ${String(duration)}`);
  return Number(match[1]);
}

describe('when validating docker-compose.yml against the Compose Specification schema', () => {
  it('should have no schema errors', () => {
    expect(composeSchemaErrors(compose)).toEqual([]);
  });

  it('should know the current specification: top-level name, include and models', () => {
    const current = { ...structuredClone(compose), name: 'rerank-pool', include: ['other/compose.yaml'], models: { reranker: { model: 'ai/example' } } };
    expect(composeSchemaErrors(current)).toEqual([]);
  });

  it('should report an unknown service key, so the check can fail', () => {
    const broken = structuredClone(compose);
    broken.services.api.replica = 2;
    expect(composeSchemaErrors(broken)).toEqual([expect.stringContaining('replica')]);
  });
});

describe('when reading the compose stack', () => {
  it('should run every service the issue names', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['redis', 'api', 'worker', 'otel-collector', 'jaeger', 'prometheus']));
  });

  it('should run two workers that outlive their drain on stop', () => {
    const worker = compose.services.worker;
    expect((worker.deploy as { replicas: number }).replicas).toBe(2);
    expect(seconds(worker.stop_grace_period)).toBeGreaterThan(WORKER_DRAIN_SECONDS);
  });

  it('should start the API only once Redis is healthy', () => {
    expect(compose.services.api.depends_on).toMatchObject({ redis: { condition: 'service_healthy' } });
    expect(compose.services.redis.healthcheck).toBeDefined();
  });

  it('should give Redis AOF persistence and no eviction, as BullMQ requires', () => {
    const conf = readFileSync(join(repoRoot, 'infra/redis/redis.conf'), 'utf8');
    const settings = new Map(
      conf.split('\n').filter((line) => line.trim() && !line.startsWith('#')).map((line) => line.trim().split(/\s+/, 2) as [string, string]),
    );
    expect(settings.get('appendonly')).toBe('yes');
    expect(settings.get('appendfsync')).toBe('everysec');
    expect(settings.get('maxmemory-policy')).toBe('noeviction');
    expect(compose.services.redis.volumes).toEqual(expect.arrayContaining([expect.stringMatching(/:\/data$/)]));
  });

  it('should share one Hugging Face cache volume between the model pull and the workers', () => {
    const cacheMount = 'hf-cache:/models/hf';
    expect(compose.services.worker.volumes).toContain(cacheMount);
    expect(compose.services['model-pull'].volumes).toContain(cacheMount);
    expect(compose.volumes).toHaveProperty('hf-cache');
  });

  it('should point Prometheus at the API, every worker replica and the collector', () => {
    const config = readYamlFile(join(repoRoot, 'infra/prometheus/prometheus.yml')) as {
      scrape_configs: Array<{ job_name: string; static_configs?: Array<{ targets: string[] }>; dns_sd_configs?: Array<{ names: string[]; port: number }> }>;
    };
    const targets = config.scrape_configs.flatMap((job) => [
      ...(job.static_configs ?? []).flatMap((entry) => entry.targets),
      ...(job.dns_sd_configs ?? []).flatMap((entry) => entry.names.map((name) => `${name}:${entry.port}`)),
    ]);
    expect(targets).toEqual(expect.arrayContaining(['api:8080', 'worker:9464', 'otel-collector:8888']));
  });

  it('should send traces from the collector to Jaeger over OTLP', () => {
    const config = readYamlFile(join(repoRoot, 'infra/otel-collector/config.yaml')) as {
      receivers: { otlp: { protocols: Record<string, unknown> } };
      exporters: Record<string, { endpoint: string }>;
      service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } };
    };
    expect(Object.keys(config.receivers.otlp.protocols).sort()).toEqual(['grpc', 'http']);
    const [exporter] = config.service.pipelines.traces.exporters;
    expect(exporter).toMatch(/^otlp\//);
    expect(config.exporters[exporter].endpoint).toBe('jaeger:4317');
  });
});
