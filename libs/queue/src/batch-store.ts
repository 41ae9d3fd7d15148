import type { ChainableCommander, Redis } from 'ioredis';
import type { BatchStatus } from '@rerank-pool/contracts';
import { defineBatchScripts } from './batch-scripts.js';
import { keys } from './keys.js';

/** A batch as stored: counters are maintained by the scripts, never computed by scanning. */
export interface BatchState {
  id: string;
  tenant: string;
  status: BatchStatus;
  /** Lines staged so far (their ids and models recorded); final once `uploaded`. */
  total: number;
  /** Lines whose jobs are known to exist: a resumed upload continues from here. */
  accepted: number;
  completed: number;
  failed: number;
  cancelled: number;
  pairsTotal: number;
  pairsCompleted: number;
  /** Model ids indexed by the line bytes (byte = index + 1, 0 = a line rejected at upload). */
  models: string[];
  uploaded: boolean;
  createdAt: number;
  cancelledAt?: number;
  finishedAt?: number;
}

export type SettleOutcome = 'completed' | 'failed' | 'cancelled';

/** One settled line: its results line (NDJSON text) and, when completed, its pairs. */
export interface Settlement {
  index: number;
  outcome: SettleOutcome;
  line: string;
  pairs: number;
}

/** The keys of one batch, in the order every batch script takes them. */
export function batchKeys(prefix: string, batchId: string): string[] {
  const meta = keys.batch(prefix, batchId);
  return [meta, `${meta}:lines`, `${meta}:ids`, `${meta}:settled`, `${meta}:results`, `${meta}:lease`, keys.batchesRunning(prefix)];
}

function stateOf(batchId: string, hash: Record<string, string>): BatchState {
  const number = (field: string) => Number(hash[field] ?? 0);
  const optionalTime = (field: string) => (hash[field] === undefined ? undefined : Number(hash[field]));
  const state: BatchState = {
    id: batchId,
    tenant: hash.tenant ?? '',
    status: 'queued',
    total: number('total'),
    accepted: number('accepted'),
    completed: number('completed'),
    failed: number('failed'),
    cancelled: number('cancelled'),
    pairsTotal: number('pairs_total'),
    pairsCompleted: number('pairs_completed'),
    models: JSON.parse(hash.models ?? '[]') as string[],
    uploaded: hash.uploaded === '1',
    createdAt: number('created_at'),
    cancelledAt: optionalTime('cancelled_at'),
    finishedAt: optionalTime('finished_at'),
  };
  if (state.cancelledAt !== undefined) state.status = 'cancelled';
  else if (state.finishedAt !== undefined) state.status = 'completed';
  else if (state.completed + state.failed > 0) state.status = 'running';
  return state;
}

/** True when bit `index` of a Redis bitmap (read with GET) is set; Redis numbers bits from the high end. */
export function bitIsSet(bitmap: Buffer, index: number): boolean {
  const byte = index >> 3;
  return byte < bitmap.length && (bitmap[byte]! & (0x80 >> (index & 7))) !== 0;
}

/**
 * Redis persistence of batches: the meta hash with its counters, the per-line model bytes and
 * ids, the settled bitmap, the finished lines' results, and the upload lease. Knows nothing
 * of BullMQ; `BatchUpload`, `BatchTracker` and `BatchQueue` drive it.
 */
export class BatchStore {
  constructor(
    readonly redis: Redis,
    readonly prefix: string,
    readonly retentionSeconds: number,
  ) {
    defineBatchScripts(redis);
  }

  keys(batchId: string): string[] {
    return batchKeys(this.prefix, batchId);
  }

  async read(batchId: string): Promise<BatchState | undefined> {
    const hash = await this.redis.hgetall(this.keys(batchId)[0]!);
    return hash.tenant === undefined ? undefined : stateOf(batchId, hash);
  }

  async open(batchId: string, tenant: string, token: string, leaseMs: number): Promise<{ state: string; value: number }> {
    const [state, value] = await this.redis.batchOpen(...this.keys(batchId), batchId, tenant, Date.now(), token, leaseMs, this.retentionSeconds);
    return { state, value };
  }

  stage(batchId: string, token: string, chunk: { start: number; lineBytes: Buffer; ids: string[]; models: readonly string[] }, leaseMs: number): Promise<number> {
    return this.redis.batchStage(
      ...this.keys(batchId),
      token,
      chunk.start,
      chunk.lineBytes,
      JSON.stringify(chunk.ids),
      JSON.stringify(chunk.models),
      this.retentionSeconds,
      leaseMs,
    );
  }

  commit(batchId: string, token: string, chunk: { start: number; count: number; failures: [number, string][]; pairs: number }, leaseMs: number): Promise<number> {
    return this.redis.batchCommit(
      ...this.keys(batchId),
      token,
      chunk.start,
      chunk.count,
      JSON.stringify(chunk.failures),
      chunk.pairs,
      this.retentionSeconds,
      leaseMs,
    );
  }

  seal(batchId: string, token: string): Promise<number> {
    return this.redis.batchSeal(...this.keys(batchId), token, Date.now(), this.retentionSeconds, batchId);
  }

  release(batchId: string, token: string): Promise<number> {
    return this.redis.batchRelease(...this.keys(batchId), token);
  }

  async beginCancel(batchId: string): Promise<{ state: string; value: number }> {
    const [state, value] = await this.redis.batchCancel(...this.keys(batchId), Date.now(), this.retentionSeconds, batchId);
    return { state, value };
  }

  /** Settles lines in one round trip; each is counted once however often it is settled. */
  async settle(batchId: string, settlements: readonly Settlement[]): Promise<void> {
    if (settlements.length === 0) return;
    const pipeline = this.redis.pipeline();
    const batchKeyList = this.keys(batchId);
    const now = Date.now();
    for (const { index, outcome, line, pairs } of settlements) {
      pipeline.batchSettle(...batchKeyList, index, outcome, line, pairs, now, this.retentionSeconds, batchId);
    }
    await execOrThrow(pipeline);
  }

  /** The model byte of every staged line. */
  async lineBytes(batchId: string): Promise<Buffer> {
    return (await this.redis.getBuffer(this.keys(batchId)[1]!)) ?? Buffer.alloc(0);
  }

  async settledBitmap(batchId: string): Promise<Buffer> {
    return (await this.redis.getBuffer(this.keys(batchId)[3]!)) ?? Buffer.alloc(0);
  }

  /** The batch's accepted lines not settled yet, by model number (1-based into `models`). */
  async unsettledByModel(batchId: string): Promise<Map<number, number[]>> {
    const [lineBytes, settled] = await Promise.all([this.lineBytes(batchId), this.settledBitmap(batchId)]);
    const byModel = new Map<number, number[]>();
    for (let index = 0; index < lineBytes.length; index++) {
      const model = lineBytes[index]!;
      if (model === 0 || bitIsSet(settled, index)) continue;
      const indexes = byModel.get(model) ?? [];
      indexes.push(index);
      byModel.set(model, indexes);
    }
    return byModel;
  }

  /** Which of `indexes` are not settled yet (one round trip). */
  async unsettled(batchId: string, indexes: readonly number[]): Promise<number[]> {
    if (indexes.length === 0) return [];
    const pipeline = this.redis.pipeline();
    const key = this.keys(batchId)[3]!;
    for (const index of indexes) pipeline.getbit(key, index);
    const bits = await execOrThrow(pipeline);
    return indexes.filter((_, i) => bits[i] === 0);
  }

  /** The JSON-encoded ids of lines (as written at upload). */
  async lineIds(batchId: string, indexes: readonly number[]): Promise<(string | null)[]> {
    if (indexes.length === 0) return [];
    return this.redis.hmget(this.keys(batchId)[2]!, ...indexes.map(String));
  }

  /** Results lines `from .. from + count - 1`; null for a line not settled. */
  async results(batchId: string, from: number, count: number): Promise<(string | null)[]> {
    if (count <= 0) return [];
    return this.redis.hmget(this.keys(batchId)[4]!, ...Array.from({ length: count }, (_, i) => String(from + i)));
  }

  async runningBatches(): Promise<string[]> {
    return this.redis.zrange(keys.batchesRunning(this.prefix), 0, -1);
  }

  async hasRunningBatches(): Promise<boolean> {
    return (await this.redis.zcard(keys.batchesRunning(this.prefix))) > 0;
  }

  async forgetRunning(batchId: string): Promise<void> {
    await this.redis.zrem(keys.batchesRunning(this.prefix), batchId);
  }

  async trackerCursor(queueName: string): Promise<string | undefined> {
    return (await this.redis.get(keys.batchTrackerCursor(this.prefix, queueName))) ?? undefined;
  }

  /** Moves the shared cursor forward only: replicas behind another never pull it back. */
  async saveTrackerCursor(queueName: string, id: string): Promise<void> {
    await this.redis.eval(ADVANCE_CURSOR, 1, keys.batchTrackerCursor(this.prefix, queueName), id);
  }
}

const ADVANCE_CURSOR = `
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local current = redis.call('GET', KEYS[1])
if current then
  local cms, cseq = parts(current)
  local nms, nseq = parts(ARGV[1])
  if nms < cms or (nms == cms and nseq <= cseq) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`;

/** Pipeline results, throwing the first command error (ioredis reports them per command). */
export async function execOrThrow(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
