/** BullMQ states of jobs not yet finished; KEDA scales workers on their sum. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** One model queue's job counts at scrape time. */
export interface QueueDepth {
  model: string;
  states: Record<QueueState, number>;
  /** Jobs not yet started (waiting or prioritized) per priority class, as the queue names them. */
  pendingByPriority: Record<string, number>;
  /** (query, document) pairs of the jobs not yet started per priority class; absent when the source does not count them. */
  pendingPairsByPriority?: Record<string, number>;
  /** Seconds since the next job of each priority class was enqueued; a class with none waiting is absent. */
  oldestPendingAgeSecondsByPriority?: Record<string, number>;
  /** Workers with a live heartbeat for the model; absent when the source does not read them. */
  liveWorkers?: number;
}

/** Reads the counts of every queue a process serves; called on each scrape. */
export type QueueDepthSource = () => Promise<QueueDepth[]>;

/** One inference pool lane's utilization (0..1) at scrape time. */
export interface PoolUtilization {
  model: string;
  /** `interactive` or `batch` (see InferencePool). */
  lane: string;
  ratio: number;
}

export type PoolUtilizationSource = () => PoolUtilization[];
