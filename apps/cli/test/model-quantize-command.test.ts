import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quantizeModel } from '@rerank-pool/model-quantize';
import { countBertParameters, synthesizeModel, SYNTH_PRESETS } from '@rerank-pool/model-synth';
import { deleteKeysWithPrefix } from '@rerank-pool/queue';
// The fake Hub of the model-hub library's own tests: the Hub's URL layout on 127.0.0.1.
import { FakeHub } from '../../../libs/model-hub/test/fake-hub.js';
import { fakeRepo, filesFromDir } from '../../../libs/model-hub/test/fixtures.js';
import { runCli } from './run-cli.js';
import { freePort } from './support/service-processes.js';

const CLI = fileURLToPath(new URL('../../../bin/rerank-pool.js', import.meta.url));
/** This suite's Redis database, apart from other suites' keys. */
const REDIS_URL = 'redis://127.0.0.1:6379/11';
const SCORE_ARGS = ['--query', 'what is a cross-encoder', '--doc', 'a model reading query and passage together', '--doc', 'bananas are yellow', '--json', '--raw'];

type Ranked = { index: number; relevance_score: number }[];
const byIndex = (results: Ranked): number[] => [...results].sort((a, b) => a.index - b.index).map((row) => row.relevance_score);

describe('when a user quantizes a model with the CLI and serves the variant', () => {
  let root: string;
  let modelDir: string;
  let outDir: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-cli-quantize-'));
    modelDir = (await synthesizeModel({ preset: 'tiny', outDir: join(root, 'tiny'), seed: 4 })).dir;
    outDir = join(root, 'tiny-int8');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('should write a complete model directory with --out and report nodes, sizes and parameters', async () => {
    const run = await runCli(['model', 'quantize', modelDir, '--out', outDir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`wrote ${join(outDir, 'onnx', 'model_quantized.onnx')} (variant quantized)`);
    expect(run.stdout).toMatch(/nodes: +14 MatMul\/Gemm quantized \(int8, symmetric, per-channel weights/);
    expect(run.stdout).toMatch(/size: +[\d.]+ MB float32 .* -> [\d.]+ MB int8/);
    expect(run.stdout).toContain(`parameters: ${countBertParameters(SYNTH_PRESETS.tiny).toLocaleString('en-US')}`);
    expect(run.stderr).toContain('model quantize: reading');
    expect((await readdir(outDir)).sort()).toEqual(['config.json', 'onnx', 'tokenizer.json', 'tokenizer_config.json']);
    expect(await readdir(join(outDir, 'onnx'))).toEqual(['model_quantized.onnx']);
  });

  it('should score the result with --variant, close to but not the same as float32', async () => {
    const int8 = await runCli(['score', '--model', outDir, '--variant', 'quantized', ...SCORE_ARGS]);
    const fp32 = await runCli(['score', '--model', modelDir, ...SCORE_ARGS]);
    expect(int8.code, int8.stderr).toBe(0);
    expect(fp32.code, fp32.stderr).toBe(0);
    const [a, b] = [byIndex(JSON.parse(int8.stdout).results), byIndex(JSON.parse(fp32.stdout).results)];
    expect(a).toHaveLength(2);
    a.forEach((logit, i) => {
      expect(logit).not.toBe(b[i]);
      expect(Math.abs(logit - b[i]!)).toBeLessThan(0.05);
    });
  });

  it('should say which ONNX files exist when the variant is not given for a directory holding only the int8 file', async () => {
    const run = await runCli(['score', '--model', outDir, '--query', 'q', '--doc', 'd']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('onnx/model_quantized.onnx');
    expect(run.stderr).toContain('[MODEL_FILE_MISSING]');
  });

  it('should refuse a directory that does not exist with a code, and a missing DIR as a usage error', async () => {
    const missing = await runCli(['model', 'quantize', join(root, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope does not exist.*\[QUANTIZE_MODEL_DIR_MISSING\]/);
    const usage = await runCli(['model', 'quantize']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: rerank-pool model quantize DIR');
  });

  it('should serve the variant from `dev --variant`, scoring as `score --variant` does and reporting int8 weights', async () => {
    const port = await freePort();
    const prefix = `rp-test-quantize-${process.pid}`;
    const child = spawn(process.execPath, [CLI, 'dev', '--port', String(port), '--model', outDir, '--variant', 'quantized'], {
      env: { ...process.env, REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', POOL_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      for (let i = 0; i < 600 && !stdout.includes('is ready at') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
      expect(stdout, stderr).toContain('is ready at');
      const response = await fetch(`http://127.0.0.1:${port}/v1/rerank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: SCORE_ARGS[1], documents: [SCORE_ARGS[3], SCORE_ARGS[5]] }),
      });
      expect(response.status).toBe(200);
      const served = byIndex(((await response.json()) as { results: Ranked }).results);
      // Scores (not logits) on both sides: the API has no raw-logit option.
      const scoreArgs = SCORE_ARGS.filter((arg) => arg !== '--raw');
      const direct = byIndex(JSON.parse((await runCli(['score', '--model', outDir, '--variant', 'quantized', ...scoreArgs])).stdout).results);
      served.forEach((score, i) => expect(Math.abs(score - direct[i]!)).toBeLessThan(1e-5));
      // TEI's /info reads the worker's heartbeat: the weights it loaded.
      let info: { model_dtype: string | null } = { model_dtype: null };
      for (let i = 0; i < 100 && info.model_dtype === null; i++) {
        info = (await (await fetch(`http://127.0.0.1:${port}/info`)).json()) as typeof info;
        if (info.model_dtype === null) await new Promise((r) => setTimeout(r, 50));
      }
      expect(info.model_dtype).toBe('int8');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      const redis = new Redis(REDIS_URL);
      await deleteKeysWithPrefix(redis, prefix).finally(() => redis.disconnect());
    }
  }, 90_000);
});

describe('when a Hub repository publishes quantized variants', () => {
  const ID = 'cross-encoder/synthetic-tiny-quantized';
  let root: string;
  let hub: FakeHub;
  let env: Record<string, string>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-cli-quantized-pull-'));
    const exported = join(root, 'export');
    const model = await synthesizeModel({ preset: 'tiny', outDir: exported, seed: 6 });
    await quantizeModel({ modelDir: model.dir });
    // The other layout Hub repos publish: uint8 weights, asymmetric, one scale per matrix (onnxruntime's quantizer default).
    await quantizeModel({ modelDir: model.dir, format: { type: 'uint8', symmetric: false, perChannel: false } });
    const files = await filesFromDir(model.dir);
    files['onnx/model.onnx'] = files['model.onnx']!;
    delete files['model.onnx'];
    hub = await FakeHub.start([fakeRepo(ID, files)]);
    env = { HF_ENDPOINT: hub.url, HF_HOME: join(root, 'hf'), HF_HUB_OFFLINE: '0' };
  });
  afterAll(async () => {
    await hub.close();
    await rm(root, { recursive: true, force: true });
  });

  it.each(['quantized', 'quint8_avx2'])('should pull onnx/model_%s.onnx alone and score with it', async (variant) => {
    const pull = await runCli(['model', 'pull', ID, '--variant', variant], env);
    expect(pull.code, pull.stderr).toBe(0);
    const run = await runCli(['score', '--model', ID, '--variant', variant, ...SCORE_ARGS], { ...env, HF_HUB_OFFLINE: '1' });
    expect(run.code, run.stderr).toBe(0);
    const logits = byIndex(JSON.parse(run.stdout).results);
    expect(logits).toHaveLength(2);
    expect(logits.every(Number.isFinite)).toBe(true);
    const snapshot = join(root, 'hf', 'hub', 'models--cross-encoder--synthetic-tiny-quantized', 'snapshots');
    const [commit] = await readdir(snapshot);
    expect(existsSync(join(snapshot, commit!, 'onnx', `model_${variant}.onnx`))).toBe(true);
  });
});
