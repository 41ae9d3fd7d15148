import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/index.js';

describe('when the config is printed or logged', () => {
  it('should redact the Redis password, API keys and webhook secret', () => {
    const config = loadConfig({
      REDIS_URL: 'redis://:hunter2@10.0.0.5:6379',
      API_KEYS: 'acme:topsecretkey',
      WEBHOOK_SECRET: 'whsec_c2VjcmV0IGtleSBvZiB0aGUgd2ViaG9va3MgdGVzdA==',
    });
    for (const printed of [JSON.stringify(config), inspect(config)]) {
      expect(printed).not.toContain('hunter2');
      expect(printed).not.toContain('topsecretkey');
      expect(printed).not.toContain('whsec_');
      expect(printed).not.toContain('c2VjcmV0IGtleSBvZiB0aGUgd2ViaG9va3MgdGVzdA');
      expect(printed).toContain('10.0.0.5');
      expect(printed).toContain('acme');
    }
    expect(config.redisUrl).toContain('hunter2');
  });
});
