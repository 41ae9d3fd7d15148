/**
 * Conditions that end a driver's step. None is a failure of a batch: the driver releases the
 * batch (lease lost) or reads its state again (stale), except `InputShrank`, which gives the
 * lines the input no longer has up as failed.
 */
export class DriverLeaseLost extends Error {
  readonly code = 'DRIVER_LEASE_LOST';

  constructor(batchId: string) {
    super(`another process drives batch ${batchId} now`);
    this.name = 'DriverLeaseLost';
  }
}

export class StaleBatchState extends Error {
  readonly code = 'STALE_BATCH_STATE';

  constructor(batchId: string) {
    super(`batch ${batchId} changed under its driver (cancelled, or a feed still pending)`);
    this.name = 'StaleBatchState';
  }
}

export class InputShrank extends Error {
  readonly code = 'INPUT_SHRANK';

  constructor(batchId: string, read: number, expected: number) {
    super(`the input of batch ${batchId} ended after ${read} of its ${expected} lines; it changed after it was counted`);
    this.name = 'InputShrank';
  }
}

/** The batch's input (or the batch store holding it) could not be read; retried until the driver gives up on it. */
export class InputUnreadable extends Error {
  readonly code = 'INPUT_UNREADABLE';

  constructor(batchId: string, cause: unknown) {
    super(`the input of batch ${batchId} could not be read: ${(cause as Error).message ?? String(cause)}`, { cause });
    this.name = 'InputUnreadable';
  }
}
