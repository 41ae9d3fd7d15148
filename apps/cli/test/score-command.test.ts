import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferencePool } from '@rerank-pool/model-runtime';
import { runCli } from './run-cli.js';

describe('when a user synthesizes a model and scores with the CLI', () => {
  let root: string;
  let modelDir: string;
  const docs = ['a passage about ranking with cross encoders', 'the weather is nice today', 'bananas', 'how to rank search results'];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rp-cli-'));
    modelDir = join(root, 'tiny');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('should write a synthetic model with its parameter count', async () => {
    const run = await runCli(['model', 'synth', '--preset', 'tiny', '--out', modelDir, '--seed', '9']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/wrote synthetic tiny \(0\.\d+M parameters\)/);
    expect(run.stdout).toMatch(/meaningless/);
  });

  it('should print JSON results sorted by score that match the runtime', async () => {
    const run = await runCli(['score', '--model', modelDir, '--query', 'ranking search results', ...docs.flatMap((d) => ['--doc', d]), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const { results } = JSON.parse(run.stdout) as { results: { index: number; relevance_score: number }[] };
    expect(results.map((r) => r.index).sort()).toEqual([0, 1, 2, 3]);
    for (let i = 1; i < results.length; i++) expect(results[i - 1]!.relevance_score).toBeGreaterThanOrEqual(results[i]!.relevance_score);
    const pool = await InferencePool.open({ modelDir, threads: 1 });
    try {
      const expected = await pool.score('ranking search results', docs);
      for (const r of results) expect(Math.abs(r.relevance_score - expected.scores[r.index]!)).toBeLessThanOrEqual(1e-6);
    } finally {
      await pool.close();
    }
  });

  it('should print a ranked table without --json', async () => {
    const run = await runCli(['score', '--model', modelDir, '--query', 'q', '--doc', 'first doc', '--doc', 'second doc']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(2);
    expect(run.stdout).toMatch(/^1\t0\.\d{4}\t\[\d\] /);
  });

  it('should explain a missing argument with exit code 2', async () => {
    const run = await runCli(['score', '--model', modelDir, '--doc', 'x']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--query is required');
    expect(run.stderr).toContain('usage: rerank-pool score');
  });

  it('should name an unknown preset', async () => {
    const run = await runCli(['model', 'synth', '--preset', 'huge', '--out', join(root, 'x')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown preset "huge"');
  });

  it('should name a model directory that is broken', async () => {
    const run = await runCli(['score', '--model', join(root, 'missing-model'), '--query', 'q', '--doc', 'd'], { HF_HUB_OFFLINE: '1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('missing-model');
  });
});
