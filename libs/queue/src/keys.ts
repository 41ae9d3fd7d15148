/** Redis keys this library owns beside BullMQ's, all under the BullMQ prefix so one prefix cleans all. */
export const keys = {
  tombstone: (prefix: string, queueName: string, jobId: string) => `${prefix}:${queueName}:cancelled:${jobId}`,
  heartbeatSet: (prefix: string, queueName: string) => `${prefix}:heartbeats:${queueName}`,
  heartbeat: (prefix: string, queueName: string, workerId: string) => `${prefix}:heartbeats:${queueName}:${workerId}`,
  /** A batch's hash; its lines, ids, settled bitmap, results and upload lease hang below it. */
  batch: (prefix: string, batchId: string) => `${prefix}:batch:${batchId}`,
  /** Batches not yet finished (sorted by creation): what the tracker reconciles after a gap. */
  batchesRunning: (prefix: string) => `${prefix}:batch-running`,
  /** The last event of a model queue's stream that batch trackers have applied. */
  batchTrackerCursor: (prefix: string, queueName: string) => `${prefix}:batch-tracker:${queueName}`,
};
