/** Redis keys this library owns beside BullMQ's, all under the BullMQ prefix so one prefix cleans all. */
export const keys = {
  tombstone: (prefix: string, queueName: string, jobId: string) => `${prefix}:${queueName}:cancelled:${jobId}`,
  heartbeatSet: (prefix: string, queueName: string) => `${prefix}:heartbeats:${queueName}`,
  heartbeat: (prefix: string, queueName: string, workerId: string) => `${prefix}:heartbeats:${queueName}:${workerId}`,
};
