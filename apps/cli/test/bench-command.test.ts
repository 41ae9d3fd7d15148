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
  }, 180_000);

  it('should name an unknown preset', async () => {
    const run = await runCli(['bench', '--preset', 'huge']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--preset must be one of tinybert-l2, minilm-l6');
  });
});
