import { loadConfig } from '@rerank-pool/config';
import { RerankWorker, workerStopBoundMs } from '@rerank-pool/worker';
import { parseCommandArgs } from '../args.js';
import { WORKER_METRICS_SERVER, warnIfExposed } from '../exposure-warning.js';
import { startProcessTracing } from '../process-tracing.js';
import { onShutdown } from '../shutdown.js';

export const usage = 'worker [--model DIR|HUB_ID ...] [--variant V]   (settings from the environment, see README)';

export async function worker(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('worker', argv, {
    model: { type: 'string', multiple: true, value: 'DIR|HUB_ID', description: 'Model to serve (default: RERANK_MODELS)' },
    variant: { type: 'string', value: 'V', description: 'Load onnx/model_<V>.onnx of every model, e.g. quantized (default: MODEL_VARIANT, else model.onnx)' },
  });
  const config = loadConfig(values.variant === undefined ? process.env : { ...process.env, MODEL_VARIANT: values.variant });
  const tracing = await startProcessTracing(config, 'rerank-pool-worker');
  const running = await RerankWorker.start({ config, models: values.model, metricsPort: config.metricsPort, drainTimeoutMs: config.workerDrainMs });
  warnIfExposed(WORKER_METRICS_SERVER, config.host, running.metricsPort ?? config.metricsPort, config);
  await onShutdown(async () => {
    await running.close();
    await tracing.shutdown();
  }, { boundMs: workerStopBoundMs(config.workerDrainMs) });
  return 0;
}
