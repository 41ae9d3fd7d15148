/** What BullMQ says when a worker tries to finish a job whose lock it no longer holds. */
const LOST_LOCK = /^(?:Missing lock for job (.+?)\. |Lock mismatch for job (.+?)\. Cmd |Job (.+?) is not in the active state\. )/;

/**
 * BullMQ reports a lost lock once when it records the result and again right after, when it
 * records that failure: reports for one job this close together are one loss.
 */
const SAME_LOSS_MS = 1000;

/**
 * Tells results that were computed but could not be recorded (the worker had lost the job's lock:
 * Redis outage, stalled event loop) from other worker errors, counting each loss once. Only jobs
 * whose processor returned a result count; the error names the job but not the attempt, so
 * returned and recorded results are counted per job.
 */
export class LostResults {
  private readonly unrecorded = new Map<string, number>();
  private readonly counted = new Map<string, number>();

  /** The processor returned a result for `jobId`; BullMQ is about to record it. */
  returnedResult(jobId: string): void {
    this.unrecorded.set(jobId, (this.unrecorded.get(jobId) ?? 0) + 1);
  }

  /** BullMQ recorded a result of `jobId`. */
  recorded(jobId: string): void {
    this.take(jobId);
  }

  /** True when `error` is the loss of a returned result not counted yet. */
  isLoss(error: Error, now = Date.now()): boolean {
    const match = LOST_LOCK.exec(error.message);
    const jobId = match?.[1] ?? match?.[2] ?? match?.[3];
    if (jobId === undefined) return false;
    for (const [id, at] of this.counted) if (now - at > SAME_LOSS_MS) this.counted.delete(id);
    if (this.counted.has(jobId) || !this.take(jobId)) return false;
    this.counted.set(jobId, now);
    return true;
  }

  /** True when `error` says a lock was lost at all (the loss may have been counted already). */
  static isLockError(error: Error): boolean {
    return LOST_LOCK.test(error.message);
  }

  private take(jobId: string): boolean {
    const count = this.unrecorded.get(jobId);
    if (count === undefined) return false;
    if (count > 1) this.unrecorded.set(jobId, count - 1);
    else this.unrecorded.delete(jobId);
    return true;
  }
}
