/**
 * Lines per settled-bitmap segment (8 KiB of bits). A batch keeps only the segments its window
 * spans: one whose lines have all settled is deleted, and `seg_done` says so for good.
 */
export const SEGMENT_LINES = 65_536;

/** The Redis keys of one batch. The `{batch id}` hash tag keeps them in one cluster slot, so every script may touch them all. */
export interface BatchKeys {
  /** Hash: counters, cursors, flags (see `BatchState`). */
  meta: string;
  /** Hash index -> results line, for lines settled and not yet written to the store. */
  results: string;
  /** List of `index:bytes` in settling order: what the next results part takes. */
  flushQueue: string;
  /**
   * Hash index -> `<input bytes>\t<id as JSON>`, for lines fed and not yet flushed: what each
   * frees of the window, and the id its results line carries if its job is lost or cancelled.
   */
  lines: string;
  /** The token of the request uploading the batch. */
  uploadLease: string;
  /** The token of the API process driving the batch (feeding, flushing, finishing). */
  driverLease: string;
  /** Settled bitmap segment `n` (lines n*SEGMENT_LINES ..). */
  segment(n: number): string;
}

export function batchKeys(prefix: string, batchId: string): BatchKeys {
  const base = `${prefix}:batch:{${batchId}}`;
  return {
    meta: base,
    results: `${base}:results`,
    flushQueue: `${base}:flushq`,
    lines: `${base}:lines`,
    uploadLease: `${base}:upload`,
    driverLease: `${base}:driver`,
    segment: (n) => `${base}:settled:${n}`,
  };
}

/** Keys across batches (each in its own slot; no script touches them together with a batch's keys). */
export function batchIndexKeys(prefix: string): { active: string; expiring: string } {
  return {
    /** Sorted set of batches that need a driver: sealed (or by reference) and not finished. */
    active: `${prefix}:batches:active`,
    /** Sorted set batch id -> time after which its files in the store may be deleted. */
    expiring: `${prefix}:batches:expiring`,
  };
}

export function segmentOf(index: number): number {
  return Math.floor(index / SEGMENT_LINES);
}
