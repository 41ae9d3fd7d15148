import type { Job, Queue } from 'bullmq';
import type { RedisClient } from '@rerank-pool/redis-connection';
import { decodeJobFailure, parseRerankJobData, parseRerankJobResult } from '@rerank-pool/contracts';
import type { JobStatus, RerankJobData, RerankJobResult, RerankPoolError } from '@rerank-pool/contracts';
import { readTombstone } from './tombstone.js';

/** A job as clients see it, whatever BullMQ state it is in. */
export interface RerankJobStatus {
  id: string;
  status: JobStatus;
  /** Fraction 0..1 reported by the worker (`job.updateProgress(0.5)`); 1 once completed. */
  progress: number;
  tenant: string;
  /** Absent for a cancelled job: its payload was removed with it. */
  data?: RerankJobData;
  result?: RerankJobResult;
  error?: RerankPoolError;
  createdAt: number;
  finishedAt?: number;
}

const QUEUED_STATES = new Set(['waiting', 'prioritized', 'delayed', 'waiting-children']);

function progressOf(job: Job): number {
  return typeof job.progress === 'number' ? Math.min(1, Math.max(0, job.progress)) : 0;
}

/** Reads a job (or its cancel tombstone); undefined when neither exists. No tenant check. */
export async function readJobStatus(queue: Queue, redis: RedisClient, prefix: string, jobId: string): Promise<RerankJobStatus | undefined> {
  // State before payload: a job seen completed is then read with its return value, never without.
  const state = await queue.getJobState(jobId);
  const job = state === 'unknown' ? undefined : await queue.getJob(jobId);
  if (!job) {
    const tombstone = await readTombstone(redis, prefix, queue.name, jobId);
    if (!tombstone) return undefined;
    return {
      id: jobId,
      status: 'cancelled',
      progress: 0,
      tenant: tombstone.tenant,
      createdAt: tombstone.createdAt,
      finishedAt: tombstone.cancelledAt,
    };
  }
  const data = parseRerankJobData(job.data);
  const base = { id: jobId, tenant: data.tenant, data, createdAt: job.timestamp };
  if (state === 'completed') {
    return {
      ...base,
      status: 'completed',
      progress: 1,
      result: parseRerankJobResult(job.returnvalue, data.documents.length),
      finishedAt: job.finishedOn,
    };
  }
  if (state === 'failed') {
    const error = decodeJobFailure(job.failedReason, jobId);
    // A job its worker stopped on request (`requestCancel`) ended in BullMQ's failed set, unretried.
    const status = error.code === 'cancelled' ? 'cancelled' : 'failed';
    return { ...base, status, progress: progressOf(job), error, finishedAt: job.finishedOn };
  }
  return { ...base, status: QUEUED_STATES.has(state) ? 'queued' : 'active', progress: progressOf(job) };
}
