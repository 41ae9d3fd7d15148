import type { FastifyInstance } from 'fastify';
import { settledLines } from '@rerank-pool/batches';
import type { BatchService } from '@rerank-pool/batches';
import type { RerankMetrics } from '@rerank-pool/telemetry';

/**
 * Unfinished batches read per scrape, oldest first: the status counts cover these, and the
 * per-batch series the running ones among them (at most MAX_BATCH_PROGRESS_SERIES).
 */
const BATCHES_READ_PER_SCRAPE = 200;

/** The offline batch gauges of `/metrics` (counts by status, progress of running batches), read from Redis at scrape time. */
export function installBatchGauges(app: FastifyInstance, metrics: RerankMetrics, batches: BatchService): void {
  const remove = metrics.operations.addBatchProgressSource(async () =>
    (await batches.unfinished(BATCHES_READ_PER_SCRAPE)).map((state) => ({
      batchId: state.id,
      status: state.status,
      settledLines: settledLines(state),
      totalLines: state.total,
    })),
  );
  app.addHook('onClose', async () => remove());
}
