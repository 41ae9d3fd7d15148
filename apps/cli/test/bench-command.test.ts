import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('when a user runs the benchmark with --json', () => {
  it('should print one JSON object with every measured number, consistent with itself', async () => {
    const run = await runCli(['bench', '--preset', 'tinybert-l2', '--queries', '6', '--docs', '8', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(Object.keys(report)).toEqual(
      expect.arrayContaining(['limit_pairs_per_s', 'pipeline_pairs_per_s', 'naive_pairs_per_s', 'ratio', 'padding_efficiency', 'latency_ms']),
    );
    expect(report.pairs).toBe(48);
    for (const key of ['limit_pairs_per_s', 'pipeline_pairs_per_s', 'naive_pairs_per_s']) expect(report[key]).toBeGreaterThan(0);
    expect(report.ratio).toBeCloseTo(report.pipeline_pairs_per_s / report.limit_pairs_per_s, 1);
    // Two alternating rounds by default, each side reported as the median (here: the mean of two).
    expect(report.rounds.limit_pairs_per_s).toHaveLength(2);
    expect(report.rounds.pipeline_pairs_per_s).toHaveLength(2);
    const [a, b] = report.rounds.pipeline_pairs_per_s;
    expect(report.pipeline_pairs_per_s).toBeCloseTo((a + b) / 2, 0);
    expect(report.padding_efficiency).toBeGreaterThan(0);
    expect(report.padding_efficiency).toBeLessThanOrEqual(1);
    expect(report.latency_ms.p95).toBeGreaterThanOrEqual(report.latency_ms.p50);
    expect(run.stderr).toMatch(/limit \(bare loop/);

    // fp32 against its int8 variant, on the same workload and rounds.
    const { int8 } = report;
    expect(Object.keys(int8)).toEqual(
      expect.arrayContaining(['fp32_pairs_per_s', 'int8_pairs_per_s', 'ratio', 'spearman_mean', 'top10_overlap_mean', 'variant']),
    );
    expect(int8.variant).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(int8.fp32_pairs_per_s).toBeGreaterThan(0);
    expect(int8.int8_pairs_per_s).toBeGreaterThan(0);
    expect(int8.ratio).toBeGreaterThan(0);
    expect(int8.ratio).toBeCloseTo(int8.int8_pairs_per_s / int8.fp32_pairs_per_s, 1);
    expect(int8.rounds.fp32_pairs_per_s).toHaveLength(2);
    expect(int8.rounds.int8_pairs_per_s).toHaveLength(2);
    expect(int8.spearman_mean).toBeGreaterThanOrEqual(-1);
    expect(int8.spearman_mean).toBeLessThanOrEqual(1);
    expect(int8.top10_overlap_mean).toBeGreaterThanOrEqual(0);
    expect(int8.top10_overlap_mean).toBeLessThanOrEqual(1);
    // Rounds alternate which precision goes first.
    expect(run.stderr).toMatch(/int8 round 1\/2 fp32[^]*int8 round 1\/2 int8[^]*int8 round 2\/2 int8[^]*int8 round 2\/2 fp32/);
  }, 180_000);

  it('should print the int8 comparison in the human report', async () => {
    const run = await runCli(['bench', '--preset', 'tinybert-l2', '--queries', '4', '--docs', '5', '--rounds', '1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^int8 pipeline +\d+(\.\d)? pairs\/s \(model_[A-Za-z0-9_-]+\.onnx/m);
    expect(run.stdout).toMatch(/^ratio int8\/fp32 +\d+(\.\d+)? \(target >= 1\.35\)$/m);
    expect(run.stdout).toMatch(/^int8 vs fp32 ranking +Spearman -?\d+(\.\d+)? mean per query.*, top-10 overlap (0|1)(\.\d+)?$/m);
  }, 180_000);

  it('should name an unknown preset', async () => {
    const run = await runCli(['bench', '--preset', 'huge']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--preset must be one of tinybert-l2, minilm-l6');
  });
});
