import { describe, expect, it } from 'vitest';
import { configSchema, describeConfig } from '../src/index.js';

describe('when describing the configuration', () => {
  it('should list every variable with its default and doc', () => {
    const text = describeConfig();
    for (const spec of Object.values(configSchema)) expect(text).toContain(spec.env);
    expect(text).toMatch(/WORKER_CONCURRENCY\s+.*\(default 32\)/);
    expect(text).toMatch(/API_KEYS\s+.*\(unset\)/);
  });
});
