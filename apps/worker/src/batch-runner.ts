import { SpanKind } from '@opentelemetry/api';
import type { BatchRunner } from '@rerank-pool/batcher';
import type { InferencePool, PoolLane } from '@rerank-pool/model-runtime';
import { withSpan } from '@rerank-pool/telemetry';

/**
 * The batcher's runner for one lane of a model's pool: runs a batch on the lane's threads inside a `rerank.batch` span (the
 * batch metrics come from the batcher's `batch` event). A batch holds pairs of many jobs from
 * many traces, so its span is a root that links to the span of every job it serves; parenting it
 * to whichever job happened to trigger the dispatch would file it under one request and hide it
 * from the others.
 */
export function tracedBatchRunner(model: string, pool: InferencePool, lane: PoolLane): BatchRunner {
  return (rows, plan) =>
    withSpan(
      'rerank.batch',
      {
        kind: SpanKind.INTERNAL,
        root: true,
        links: plan.traceLinks.map((context) => ({ context })),
        attributes: {
          'rerank.model': model,
          'rerank.batch.priority': plan.priority,
          'rerank.batch.rows': plan.rows,
          'rerank.batch.jobs': plan.submissions,
          'rerank.batch.real_tokens': plan.realTokens,
          'rerank.batch.padded_tokens': plan.paddedTokens,
          'rerank.batch.padding_efficiency': plan.realTokens / plan.paddedTokens,
        },
      },
      () => pool.infer(rows, lane),
    );
}
