import type { Job } from 'bullmq';
import type { DynamicBatcher } from '@rerank-pool/batcher';
import { Errors, parseRerankJobData, type RerankJobData, type RerankJobResult } from '@rerank-pool/contracts';
import { InferencePool, ModelRuntimeError, rawScore, relevanceScore } from '@rerank-pool/model-runtime';
import { checkDeadline, toJobFailure } from '@rerank-pool/queue';

// Each progress write is a Redis round trip; a few per second is plenty for a progress bar.
const PROGRESS_INTERVAL_MS = 250;

/**
 * Scores one BullMQ job: checks it, tokenizes on the pool's threads, hands its pairs to the
 * shared batcher (where they meet the pairs of every other active job) and returns the scores
 * in input order. Bad jobs fail without retry; nothing a job holds can hurt another job.
 */
export class JobScorer {
  constructor(
    private readonly pool: InferencePool,
    private readonly batcher: DynamicBatcher,
  ) {}

  async process(job: Job<RerankJobData>, signal?: AbortSignal): Promise<RerankJobResult> {
    const started = Date.now();
    try {
      const data = parseRerankJobData(job.data);
      checkDeadline(data, job.id);
      const encoded = await this.pool.encode(data.query, data.documents, { maxTokensPerDoc: data.options.maxTokensPerDoc });
      if (data.options.truncate === false) {
        for (let i = 0; i < encoded.count; i++) {
          if (encoded.truncated[i]) {
            throw Errors.inputTooLong(
              `document ${i} with the query exceeds the model's limit of ${this.pool.model.maxLength} tokens; set truncate: true to cut it`,
              `documents[${i}]`,
            );
          }
        }
      }
      let inputTokens = 0;
      for (let i = 0; i < encoded.count; i++) inputTokens += encoded.offsets[i + 1]! - encoded.offsets[i]!;
      let lastProgress = 0;
      const logits = await this.batcher.submit(encoded, {
        priority: data.priority,
        signal,
        onProgress: (done, total) => {
          const now = Date.now();
          if (done < total && now - lastProgress < PROGRESS_INTERVAL_MS) return;
          lastProgress = now;
          void job.updateProgress(done / total).catch(() => undefined);
        },
      });
      const labels = this.pool.model.numLabels;
      return {
        v: 1,
        model: data.model,
        scores: data.documents.map((_, i) => relevanceScore(logits, labels, i)),
        logits: data.documents.map((_, i) => rawScore(logits, labels, i)),
        inputTokens,
        timings: { queueMs: Math.max(0, started - job.timestamp), inferenceMs: Date.now() - started },
      };
    } catch (error) {
      throw toJobFailure(translate(error));
    }
  }
}

function translate(error: unknown): unknown {
  if (error instanceof ModelRuntimeError && (error.code === 'INPUT_TOO_LONG' || error.code === 'INVALID_OPTION')) {
    return Errors.inputTooLong(error.message);
  }
  return error;
}
