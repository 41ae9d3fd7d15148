import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, syntheticText } from '@rerank-pool/model-synth';
import { queueNameForModel } from '@rerank-pool/queue';
import { redisOptionsFromUrl } from '@rerank-pool/redis-connection';
import { postJson, startLiveService, type LiveService } from './helpers/live-service.js';

// About a second of work for the tiny model on one thread: long enough for progress to be written.
const rng = createRng(9);
const documents = Array.from({ length: 1000 }, () => syntheticText(rng, 300));

describe('when a long job runs on a real worker', () => {
  let service: LiveService;
  let events: QueueEvents;
  const progressed = new Set<string>();

  beforeAll(async () => {
    service = await startLiveService();
    events = new QueueEvents(queueNameForModel(service.modelId), {
      connection: redisOptionsFromUrl(service.config.redisUrl),
      prefix: service.config.queuePrefix,
    });
    events.on('progress', ({ jobId }) => progressed.add(jobId));
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await events?.close();
    await service?.close();
  });

  it('should report partial progress on an async job while it runs', async () => {
    const accepted = await postJson(service.base, '/v1/jobs', { model: service.modelId, query: 'which passage', documents });
    expect(accepted.status).toBe(202);
    const seen: number[] = [];
    for (;;) {
      const status = (await (await fetch(`${service.base}/v1/jobs/${accepted.body.id}`)).json()) as { status: string; progress: number };
      seen.push(status.progress);
      if (status.status === 'completed' || status.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(seen.at(-1)).toBe(1);
    expect(seen.some((progress) => progress > 0 && progress < 1)).toBe(true);
    expect(progressed.has(accepted.body.id)).toBe(true);
  });

  it('should write no progress for a synchronous request, which nobody polls', async () => {
    const response = await postJson(service.base, '/v1/rerank', { model: service.modelId, query: 'which passage', documents });
    expect(response.status).toBe(200);
    expect(response.body.results).toHaveLength(documents.length);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(progressed.has(response.body.id)).toBe(false);
  });
});
