import type { BatchStatus } from '@rerank-pool/contracts';

export type LineOutcome = 'completed' | 'failed' | 'cancelled';

/** Where the next line of a batch's input starts: part (0 for a by-reference input), byte offset, physical lines before it. */
export interface InputCursor {
  part: number;
  offset: number;
  physical: number;
}

/** A batch as its Redis meta hash holds it. Counters are kept by the scripts, never computed by scanning. */
export interface BatchState {
  id: string;
  tenant: string;
  source: 'upload' | 'url';
  status: BatchStatus;
  /** Lines in the batch: final once `inputComplete`; until then, those stored (or counted) so far. */
  total: number;
  /** The upload was sealed, or a by-reference input was counted: `total` is final. */
  inputComplete: boolean;
  completed: number;
  failed: number;
  cancelled: number;
  pairsTotal: number;
  pairsCompleted: number;
  createdAt: number;
  cancelledAt?: number;
  settledAt?: number;
  finishedAt?: number;
  inputUrl?: string;
  outputUrl?: string;
  /** Why the input was refused or given up, or the output could not be written. */
  error?: string;
  trace?: Record<string, string>;
  upload: { parts: number; physical: number; sessions: [part: number, token: string][] };
  scan: { offset: number; physical: number };
  /** Lines fed to the queues so far (their indexes are 0 .. fed-1) and where the input continues. */
  fed: number;
  feedCursor: InputCursor;
  /** A feed whose jobs may not all have been added yet. */
  pending?: { from: number; to: number; cursor: InputCursor };
  /** Results lines moved from Redis to the store so far. */
  flushed: number;
  /** Input bytes of the lines fed and not yet flushed: the window's byte count. */
  windowBytes: number;
  flushSeq: number;
  /** Settled-bitmap segments retired (all their lines settled). */
  segmentsDone: number;
  /** Lines from `from` on were never fed and were all settled with `outcome`. */
  tail?: { from: number; outcome: LineOutcome };
  /** Where the results were written (`store:<key>` or the output URL). */
  resultsRef?: string;
}

function optionalNumber(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

export function batchStateOf(id: string, hash: Record<string, string>): BatchState {
  const number = (field: string) => Number(hash[field] ?? 0);
  const state: BatchState = {
    id,
    tenant: hash.tenant ?? '',
    source: hash.source === 'url' ? 'url' : 'upload',
    status: 'queued',
    total: number('total'),
    inputComplete: hash.uploaded === '1',
    completed: number('completed'),
    failed: number('failed'),
    cancelled: number('cancelled'),
    pairsTotal: number('pairs_total'),
    pairsCompleted: number('pairs_completed'),
    createdAt: number('created_at'),
    cancelledAt: optionalNumber(hash.cancelled_at),
    settledAt: optionalNumber(hash.settled_at),
    finishedAt: optionalNumber(hash.finished_at),
    inputUrl: hash.input_url,
    outputUrl: hash.output_url,
    error: hash.error,
    trace: hash.trace === undefined ? undefined : (JSON.parse(hash.trace) as Record<string, string>),
    upload: {
      parts: number('upload_parts'),
      physical: number('upload_physical'),
      sessions: JSON.parse(hash.upload_sessions ?? '[]') as [number, string][],
    },
    scan: { offset: number('scan_offset'), physical: number('scan_physical') },
    fed: number('fed'),
    feedCursor: { part: number('feed_part'), offset: number('feed_offset'), physical: number('feed_physical') },
    pending:
      hash.pending_to === undefined
        ? undefined
        : {
            from: number('pending_from'),
            to: number('pending_to'),
            cursor: { part: number('pending_part'), offset: number('pending_offset'), physical: number('pending_physical') },
          },
    flushed: number('flushed'),
    windowBytes: number('window_bytes'),
    flushSeq: number('flush_seq'),
    segmentsDone: number('seg_done'),
    tail: hash.tail_from === undefined ? undefined : { from: number('tail_from'), outcome: hash.tail_outcome as LineOutcome },
    resultsRef: hash.results_ref,
  };
  state.status = statusOf(state);
  return state;
}

function statusOf(state: BatchState): BatchStatus {
  if (state.cancelledAt !== undefined) return 'cancelled';
  if (state.finishedAt !== undefined) return 'completed';
  if (state.settledAt !== undefined) return 'finalizing';
  if (state.completed + state.failed > 0) return 'running';
  return 'queued';
}

/** Lines settled so far. */
export function settledLines(state: BatchState): number {
  return state.completed + state.failed + state.cancelled;
}
