import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { synthesizeModel, type SynthPresetName } from '@rerank-pool/model-synth';
import type { PrivateRedis } from '../../../../libs/batches/test/support/private-redis.js';
import type { ServiceProcess } from './service-processes.js';

/** What a test file of real service processes shares: a synthetic model, its processes, its redis-server. */
export interface ServiceFixture {
  modelDir: string;
  /** The model's id: its folder name. */
  modelId: string;
  /** Processes killed (by pid) after each test. */
  running: ServiceProcess[];
  /** The test's redis-server, stopped after each test. */
  redis?: PrivateRedis;
}

/**
 * Registers the hooks of such a file: the model is made once, every process and the redis-server
 * a test started are ended after it, whatever it did, and the model's folder is removed at the end.
 */
export function useServiceFixture({ label, preset, seed }: { label: string; preset: SynthPresetName; seed: number }): ServiceFixture {
  const fixture: ServiceFixture = { modelDir: '', modelId: '', running: [] };
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `rp-${label}-`));
    fixture.modelDir = join(root, `synthetic-${preset}`);
    fixture.modelId = basename(fixture.modelDir);
    await synthesizeModel({ preset, outDir: fixture.modelDir, seed });
  });
  afterEach(async () => {
    for (const proc of fixture.running.splice(0)) await proc.kill();
    await fixture.redis?.stop();
    fixture.redis = undefined;
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });
  return fixture;
}
