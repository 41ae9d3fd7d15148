import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectStore } from '@rerank-pool/object-store';
import type { FilledBatchOptions } from './batch-options.js';
import type { BatchRecords } from './batch-records.js';
import { BatchRun } from './batch-run.js';
import { DriverLeaseLost } from './driver-errors.js';
import type { LineJobs } from './line-jobs.js';
import { storeLayout } from './store-layout.js';

export interface BatchDriverEvents {
  /** A step failed or something was repaired; the driver carries on. */
  warning: [message: string, error?: Error];
}

export interface BatchDriverArgs {
  records: BatchRecords;
  store: ObjectStore;
  jobs: LineJobs;
  options: FilledBatchOptions;
}

/** How often the list of batches needing a driver is read. */
const DISCOVERY_MS = 500;
/** A step that failed is retried after this long, not at the next tick. */
const ERROR_BACKOFF_MS = 1000;

/**
 * Drives batches from any number of API processes: each process looks for batches that need a
 * driver, takes the ones whose lease is free (one driver per batch at a time), and runs each in
 * its own loop until it finishes or the lease is lost. A process that dies stops renewing, and
 * another takes its batches over within `driverLeaseMs`, continuing from what Redis recorded.
 * It also deletes the store files of batches whose retention ended.
 */
export class BatchDriver extends EventEmitter<BatchDriverEvents> {
  private readonly runs = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private discovery?: Promise<void>;
  private wakeDiscovery?: AbortController;
  private lastJanitor = 0;

  constructor(private readonly args: BatchDriverArgs) {
    super();
  }

  start(): void {
    this.discovery ??= this.discover();
  }

  /** Looks for batches now (one was just sealed or created here). */
  wake(): void {
    this.wakeDiscovery?.abort();
  }

  /** Stops every run (their leases are released, so another process takes over at once). */
  async close(): Promise<void> {
    this.stopping.abort();
    this.wake();
    await this.discovery;
    await Promise.allSettled([...this.runs.values()]);
  }

  private async discover(): Promise<void> {
    const { records, options } = this.args;
    while (!this.stopping.signal.aborted) {
      try {
        for (const batchId of await records.activeIds()) {
          if (this.runs.size >= options.maxDrivenBatches) break;
          if (this.runs.has(batchId)) continue;
          const token = randomUUID();
          if (!(await records.claimDriver(batchId, token, options.driverLeaseMs))) continue;
          const run = this.drive(batchId, token).finally(() => this.runs.delete(batchId));
          this.runs.set(batchId, run);
        }
        if (Date.now() - this.lastJanitor >= options.janitorIntervalMs) {
          this.lastJanitor = Date.now();
          await this.sweepExpired();
        }
      } catch (error) {
        this.emit('warning', `batch discovery failed: ${(error as Error).message}`, error as Error);
      }
      this.wakeDiscovery = new AbortController();
      await sleep(DISCOVERY_MS, undefined, { ref: false, signal: AbortSignal.any([this.wakeDiscovery.signal, this.stopping.signal]) }).catch(() => undefined);
    }
  }

  private async drive(batchId: string, token: string): Promise<void> {
    const { records, options } = this.args;
    const lost = new AbortController();
    const signal = AbortSignal.any([lost.signal, this.stopping.signal]);
    const renewal = setInterval(() => {
      records.claimDriver(batchId, token, options.driverLeaseMs).then(
        (held) => held || lost.abort(),
        // A renewal that fails is tried again; the lease outlives two missed renewals.
        () => undefined,
      );
    }, Math.floor(options.driverLeaseMs / 3));
    renewal.unref();
    const run = new BatchRun({ ...this.args, batchId, token, signal, parser: options.parser, warn: (message, error) => this.emit('warning', message, error) });
    try {
      while (!signal.aborted) {
        let wait = options.tickMs;
        try {
          if ((await run.step()) === 'done') break;
        } catch (error) {
          if (error instanceof DriverLeaseLost) break;
          this.emit('warning', `batch ${batchId}: ${(error as Error).message}`, error as Error);
          wait = ERROR_BACKOFF_MS;
        }
        await sleep(wait, undefined, { ref: false, signal }).catch(() => undefined);
      }
    } finally {
      clearInterval(renewal);
      await run.close().catch(() => undefined);
      await records.releaseDriver(batchId, token).catch(() => undefined);
    }
  }

  /** Deletes the store files of batches whose Redis record is gone (finished and expired, or abandoned uploads). */
  private async sweepExpired(): Promise<void> {
    const { records, store } = this.args;
    const now = Date.now();
    for (const batchId of await records.dueExpiries(now, 100)) {
      const ttl = await records.metaTtlMs(batchId);
      if (ttl > 0) {
        await records.scheduleExpiry(batchId, now + ttl);
        continue;
      }
      // -1: alive with no expiry (sealed and running): its finish schedules it again.
      if (ttl === -2) await store.deletePrefix(storeLayout.root(batchId));
      await records.forgetExpiry(batchId);
    }
  }
}
