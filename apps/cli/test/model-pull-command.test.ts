import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeModel } from '@rerank-pool/model-synth';
// The fake Hub of the model-hub library's own tests: the Hub's URL layout on 127.0.0.1.
import { FakeHub } from '../../../libs/model-hub/test/fake-hub.js';
import { fakeRepo, filesFromDir } from '../../../libs/model-hub/test/fixtures.js';
import { runCli } from './run-cli.js';

const ID = 'cross-encoder/synthetic-tiny';

describe('when a user pulls a Hub model with the CLI and scores with its id', () => {
  let root: string;
  let hub: FakeHub;
  let env: Record<string, string>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-cli-pull-'));
    const model = await synthesizeModel({ preset: 'tiny', outDir: join(root, 'export'), seed: 5 });
    hub = await FakeHub.start([fakeRepo(ID, await filesFromDir(model.dir))]);
    env = { HF_ENDPOINT: hub.url, HF_HOME: join(root, 'hf'), HF_HUB_OFFLINE: '0' };
  });
  afterAll(async () => {
    await hub.close();
    await rm(root, { recursive: true, force: true });
  });

  it('should download into the cache and report the snapshot', async () => {
    const run = await runCli(['model', 'pull', ID], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${ID}@main`);
    expect(run.stdout).toContain(join(root, 'hf', 'hub', 'models--cross-encoder--synthetic-tiny', 'snapshots'));
    expect(run.stderr).toMatch(/model\.onnx: .*100%/);
  });

  it('should score with the Hub id offline, from the cache', async () => {
    await hub.close();
    const run = await runCli(['score', '--model', ID, '--query', 'q', '--doc', 'a', '--doc', 'b', '--json'], { ...env, HF_HUB_OFFLINE: '1' });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).results).toHaveLength(2);
  });

  it('should say clearly when a model is neither cached nor reachable offline', async () => {
    const run = await runCli(['score', '--model', 'cross-encoder/not-pulled', '--query', 'q', '--doc', 'a'], { ...env, HF_HUB_OFFLINE: '1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cross-encoder\/not-pulled/);
    expect(run.stderr).toMatch(/HUB_OFFLINE/);
  });
});
