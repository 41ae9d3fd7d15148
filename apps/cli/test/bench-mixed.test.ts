import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('when a user runs only the mixed section of the benchmark', () => {
  it('should report idle and during-batch latency and the batch throughput with and without probes, under mixed', async () => {
    const run = await runCli(['bench', '--preset', 'tinybert-l2', '--queries', '40', '--docs', '30', '--rounds', '1', '--mixed', 'only', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.pairs).toBe(1200);
    const { mixed } = report;
    expect(mixed.idle_ms.p95).toBeGreaterThanOrEqual(mixed.idle_ms.p50);
    expect(mixed.idle_ms.p50).toBeGreaterThan(0);
    expect(mixed.batch_pairs_per_s.alone).toBeGreaterThan(0);
    expect(mixed.batch_pairs_per_s.with_probes).toBeGreaterThan(0);
    expect(mixed.total_pairs_per_s_with_probes).toBeGreaterThanOrEqual(mixed.batch_pairs_per_s.with_probes);
    expect(mixed.rounds.alone).toHaveLength(1);
    expect(mixed.rounds.with_probes).toHaveLength(1);
    // The probes that ran during the batch were answered and counted, each by its priority class.
    expect(mixed.probes).toBeGreaterThan(0);
    expect(mixed.during_batch_ms.p95).toBeGreaterThanOrEqual(mixed.during_batch_ms.p50);
    expect(mixed.queue_wait_mean_ms).toHaveProperty('interactive');
    expect(mixed.queue_wait_mean_ms).toHaveProperty('batch_line');
    expect(run.stderr).toMatch(/mixed round 1\/1: batch alone[^]*mixed round 1\/1: batch with probes/);
  });

  it('should refuse a --mixed value it does not know, naming it', async () => {
    const run = await runCli(['bench', '--mixed', 'sometimes']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--mixed must be one of on, off, only, got "sometimes"/);
  });
});
