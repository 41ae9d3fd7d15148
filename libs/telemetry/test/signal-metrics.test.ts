import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseExposition, RerankMetrics, sampleSum } from '@rerank-pool/telemetry';

const SIGNAL_SERIES = ['rerank_signal_kendall_tau', 'rerank_signal_top10_kept_ratio', 'rerank_signal_truncated_ratio', 'rerank_signal_score_spread'];

const metrics = () => new RerankMetrics({ registry: new Registry(), defaultMetrics: false });

describe('when re-ranking signals are observed', () => {
  it('should declare each signal as a histogram named by Prometheus conventions, with help', async () => {
    const text = await metrics().metrics();
    for (const name of SIGNAL_SERIES) {
      expect(text).toContain(`# TYPE ${name} histogram`);
      expect(text).toMatch(new RegExp(`# HELP ${name} \\S`));
      // What promtool's lint refuses: non-snake-case names, and suffixes reserved for other types.
      expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(name).not.toMatch(/_(total|count|sum|bucket)$/);
    }
  });

  it('should record one request in every signal histogram, per model', async () => {
    const registry = metrics();
    registry.observeSignals('m1', { documents: 20, kendallTau: 0.62, top10KeptFraction: 0.7, truncatedFraction: 0.25, scoreSpread: 0.4 });
    registry.observeSignals('m1', { documents: 5, kendallTau: 1, top10KeptFraction: 1, truncatedFraction: 0, scoreSpread: 0.05 });
    const samples = parseExposition(await registry.metrics());
    for (const name of SIGNAL_SERIES) expect(sampleSum(samples, `${name}_count`, { model: 'm1' })).toBe(2);
    expect(sampleSum(samples, 'rerank_signal_kendall_tau_sum', { model: 'm1' })).toBeCloseTo(1.62);
    expect(sampleSum(samples, 'rerank_signal_kendall_tau_bucket', { model: 'm1', le: '0.7' })).toBe(1);
    expect(sampleSum(samples, 'rerank_signal_kendall_tau_bucket', { model: 'm1', le: '0.99' })).toBe(1);
    expect(sampleSum(samples, 'rerank_signal_kendall_tau_bucket', { model: 'm1', le: '1' })).toBe(2);
    // A fraction of exactly 0.7 lands in the 0.7 bucket: top-10 fractions are tenths.
    expect(sampleSum(samples, 'rerank_signal_top10_kept_ratio_bucket', { model: 'm1', le: '0.7' })).toBe(1);
    expect(sampleSum(samples, 'rerank_signal_truncated_ratio_bucket', { model: 'm1', le: '0' })).toBe(1);
    expect(sampleSum(samples, 'rerank_signal_score_spread_sum', { model: 'm1' })).toBeCloseTo(0.45);
  });

  it('should skip a one-document request, and the truncation histogram when truncation is unknown', async () => {
    const registry = metrics();
    registry.observeSignals('m1', { documents: 1, kendallTau: null, top10KeptFraction: 1, truncatedFraction: 0, scoreSpread: 0 });
    registry.observeSignals('m1', { documents: 3, kendallTau: -1, top10KeptFraction: 1, truncatedFraction: null, scoreSpread: 0.5 });
    const samples = parseExposition(await registry.metrics());
    expect(sampleSum(samples, 'rerank_signal_kendall_tau_count', { model: 'm1' })).toBe(1);
    expect(sampleSum(samples, 'rerank_signal_kendall_tau_bucket', { model: 'm1', le: '-0.5' })).toBe(1);
    expect(sampleSum(samples, 'rerank_signal_truncated_ratio_count', { model: 'm1' })).toBeUndefined();
  });
});
