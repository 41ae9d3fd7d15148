import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

let harness: Harness;
const body = { query: 'q', documents: ['10 a'] };

beforeAll(async () => {
  harness = await createHarness({ MAX_QUEUE_DEPTH: '2' });
});

afterAll(async () => {
  await harness.close();
});

describe("when a model's queue holds MAX_QUEUE_DEPTH waiting jobs", () => {
  it('should answer 429 with Retry-After and enqueue nothing more', async () => {
    for (let i = 0; i < 2; i += 1) expect((await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: body })).statusCode).toBe(202);
    for (const url of ['/v1/rerank', '/v1/jobs', '/rerank']) {
      const payload = url === '/rerank' ? { query: 'q', texts: ['a'] } : body;
      const response = await harness.app.inject({ method: 'POST', url, payload });
      expect(response.statusCode).toBe(429);
      expect(response.headers['retry-after']).toBe('1');
      const message = 'model test-org/tiny-reranker has 2 waiting jobs (MAX_QUEUE_DEPTH 2); retry later';
      // The TEI route answers in TEI's body (its `Overloaded`, 429 too).
      if (url === '/rerank') expect(response.json()).toEqual({ error: message, error_type: 'Overloaded' });
      else expect(response.json().error).toEqual({ code: 'overloaded', message });
    }
    expect(await harness.jobCount()).toBe(2);
  });
});
