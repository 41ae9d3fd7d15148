import { driveBatch, type BatchLoadResult } from './batch-load.js';
import { driveHttpLoad } from './http-load.js';
import type { RerankRequest } from './workload.js';

export interface MixedLoadOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  model: string;
  /** The offline batch's lines. */
  batch: readonly RerankRequest[];
  /** Online requests sent one at a time while the batch runs, cycled. Empty: the batch alone. */
  probes: readonly RerankRequest[];
  /** Pause between one probe's answer and the next probe, so online traffic stays light. */
  probeGapMs: number;
}

export interface MixedLoadResult {
  batch: BatchLoadResult;
  /** Latency of each probe sent while the batch ran, in ms. */
  probeLatenciesMs: number[];
  probePairs: number;
}

/**
 * Runs one offline batch and, once its first lines are done (the pool is saturated), sends
 * sync requests one at a time until it finishes: what an online caller sees while batch lines
 * hold the pool, and what those requests cost the batch.
 */
export async function driveMixedLoad(options: MixedLoadOptions): Promise<MixedLoadResult> {
  const probeLatenciesMs: number[] = [];
  let probePairs = 0;
  let batchDone = false;
  let started: (() => void) | undefined;
  const saturated = new Promise<void>((resolve) => (started = resolve));
  const probing = (async () => {
    if (options.probes.length === 0) return;
    await saturated;
    for (let i = 0; !batchDone; i++) {
      const probe = options.probes[i % options.probes.length]!;
      const one = await driveHttpLoad([probe], { baseUrl: options.baseUrl, model: options.model, concurrency: 1 });
      // A probe answered after the batch ended did not wait behind it.
      if (batchDone) break;
      probeLatenciesMs.push(one.latenciesMs[0]!);
      probePairs += probe.documents.length;
      await new Promise((resolve) => setTimeout(resolve, options.probeGapMs));
    }
  })().then(
    () => undefined,
    (error: unknown) => error,
  );
  try {
    const batch = await driveBatch(options.batch, {
      baseUrl: options.baseUrl,
      model: options.model,
      onProgress: (done) => done > 0 && started?.(),
    });
    return { batch, probeLatenciesMs, probePairs };
  } finally {
    batchDone = true;
    started?.();
    const failure = await probing;
    if (failure !== undefined) throw failure;
  }
}
