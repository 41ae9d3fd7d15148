import { API_STOP_BOUND_MS, startApi } from '@rerank-pool/api';
import { loadConfig } from '@rerank-pool/config';
import { RerankWorker, workerStopBoundMs } from '@rerank-pool/worker';
import { parseCommandArgs, positiveIntegerArg } from '../args.js';
import { defaultModel } from '../default-model.js';
import { API_SERVER, warnIfExposed } from '../exposure-warning.js';
import { ensureRedis } from '../local-redis.js';
import { startProcessTracing } from '../process-tracing.js';
import { onShutdown } from '../shutdown.js';

export const usage = 'dev [--port N] [--model DIR|HUB_ID ...] [--variant V]   (API + worker in one process; starts redis-server if none answers)';

export async function dev(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('dev', argv, {
    port: { type: 'string', value: 'N', description: 'HTTP port of the API (default: PORT)' },
    model: { type: 'string', multiple: true, value: 'DIR|HUB_ID', description: 'Model to serve (default: RERANK_MODELS)' },
    variant: { type: 'string', value: 'V', description: 'Load onnx/model_<V>.onnx of every model, e.g. quantized (default: MODEL_VARIANT, else model.onnx)' },
  });
  const port = positiveIntegerArg('dev', 'port', values.port);
  const baseConfig = loadConfig();
  // A cluster or a Sentinel group is the operator's: REDIS_URL then names no server to stand in for.
  const redis =
    baseConfig.redisClusterNodes || baseConfig.redisSentinels
      ? { url: baseConfig.redisUrl, started: false, stop: async () => undefined }
      : await ensureRedis(baseConfig.redisUrl, { avoidPorts: [port ?? baseConfig.port] });
  if (redis.started) process.stderr.write(`rerank-pool dev: nothing answered at ${baseConfig.redisUrl}; started redis-server at ${redis.url}\n`);

  let models = values.model;
  if (!models && !process.env.RERANK_MODELS) {
    const fallback = await defaultModel();
    if (fallback.warning) process.stderr.write(`\nWARNING: ${fallback.warning}\n\n`);
    models = [fallback.ref];
  }
  const config = loadConfig({
    ...process.env,
    REDIS_URL: redis.url,
    ...(port !== undefined ? { PORT: String(port) } : {}),
    ...(models ? { RERANK_MODELS: models.join(',') } : {}),
    ...(values.variant !== undefined ? { MODEL_VARIANT: values.variant } : {}),
  });

  // One process, one registry: the API's /metrics shows the worker's series too, so no METRICS_PORT.
  const tracing = await startProcessTracing(config, 'rerank-pool');
  let worker: RerankWorker | undefined;
  try {
    worker = await RerankWorker.start({ config });
    const app = await startApi(config);
    const address = app.server.address();
    const actualPort = typeof address === 'object' && address ? address.port : config.port;
    warnIfExposed(API_SERVER('dev'), config.host, actualPort, config);
    const base = `http://localhost:${actualPort}`;
    process.stdout.write(
      [
        '',
        `rerank-pool is ready at ${base} serving ${worker.modelIds.join(', ')}`,
        'try:',
        `  curl -s ${base}/v1/rerank -H 'content-type: application/json' -d '{"query": "what is a cross-encoder", "documents": ["A cross-encoder reads the query and the passage together.", "Bananas are yellow."], "return_documents": true}'`,
        `  curl -s ${base}/v1/models`,
        '',
      ].join('\n'),
    );
    await onShutdown(async () => {
      await app.close();
      await worker!.close();
      await redis.stop();
      await tracing.shutdown();
    }, { boundMs: API_STOP_BOUND_MS + workerStopBoundMs(config.workerDrainMs) });
  } catch (error) {
    await worker?.close();
    await redis.stop();
    await tracing.shutdown();
    throw error;
  }
  return 0;
}
