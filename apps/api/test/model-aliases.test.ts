import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@rerank-pool/config';
import { buildApi } from '../src/index.js';
import { IDLE_MODEL, MODEL, createHarness, temporaryBatchStore } from './helpers/harness.js';
import type { Harness } from './helpers/harness.js';

describe('when RERANK_MODEL_ALIASES names other models', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await createHarness({ RERANK_MODEL_ALIASES: `rerank-english-v2.0=${IDLE_MODEL},rerank-v3.5=${MODEL},rerank-english-v3.0=${IDLE_MODEL}` });
  });

  afterAll(() => harness.close());

  it('should list each alias under the model that answers it', async () => {
    const models = await harness.app.inject({ method: 'GET', url: '/v1/models' });
    expect(models.json()).toEqual({
      data: [
        { id: MODEL, aliases: ['rerank-v3.5'], workers: 0 },
        { id: IDLE_MODEL, aliases: ['rerank-english-v2.0', 'rerank-english-v3.0'], workers: 0 },
      ],
    });
  });

  it("should queue a job naming an alias on its target model's queue", async () => {
    const before = await harness.jobCount(IDLE_MODEL);
    const accepted = await harness.app.inject({ method: 'POST', url: '/v1/jobs', payload: { model: 'rerank-english-v2.0', query: 'q', documents: ['a', 'b'] } });
    expect(accepted.statusCode).toBe(202);
    expect(await harness.jobCount(IDLE_MODEL)).toBe(before + 1);
  });

  it('should still answer 404 unknown_model for a name that is neither a model nor an alias', async () => {
    const response = await harness.app.inject({ method: 'POST', url: '/v2/rerank', payload: { model: 'rerank-multilingual-v3.0', query: 'q', documents: ['a'] } });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('unknown_model');
  });
});

describe('when an alias does not fit the served models', () => {
  it('should refuse to start, naming the variable and the entry', async () => {
    const store = temporaryBatchStore();
    try {
      const config = loadConfig({ RERANK_MODELS: MODEL, BATCH_STORE_URL: store.url, RERANK_MODEL_ALIASES: 'rerank-v3.5=test-org/not-served' });
      const failure = await buildApi({ config, logger: false }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as ConfigError).problems).toEqual([
        `RERANK_MODEL_ALIASES entry "rerank-v3.5=test-org/not-served": "test-org/not-served" is not a served model id (served: ${MODEL})`,
      ]);
    } finally {
      store.remove();
    }
  });
});
