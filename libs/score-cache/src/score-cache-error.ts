export type ScoreCacheErrorCode =
  /** SCORE_CACHE_URL names the queue's own Redis, whose eviction policy may drop queue data. */
  | 'CACHE_MAY_EVICT_QUEUE_DATA'
  /** A model file could not be read to compute the model's identity. */
  | 'MODEL_IDENTITY_UNREADABLE';

/** A pair-score cache that cannot be used as configured. Lookups and writes never throw one: they miss. */
export class ScoreCacheError extends Error {
  readonly code: ScoreCacheErrorCode;

  constructor(code: ScoreCacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScoreCacheError';
    this.code = code;
  }
}
