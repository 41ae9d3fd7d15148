import type { AddressInfo } from 'node:net';
import { API_STOP_BOUND_MS, startApi } from '@rerank-pool/api';
import { loadConfig } from '@rerank-pool/config';
import { parseCommandArgs } from '../args.js';
import { API_SERVER, warnIfExposed } from '../exposure-warning.js';
import { startProcessTracing } from '../process-tracing.js';
import { onShutdown } from '../shutdown.js';

export const usage = 'api [--model DIR|HUB_ID ...]   (settings from the environment, see README)';

export async function api(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('api', argv, { model: { type: 'string', multiple: true, value: 'DIR|HUB_ID', description: 'Model to serve (default: RERANK_MODELS)' } });
  const config = loadConfig();
  const tracing = await startProcessTracing(config, 'rerank-pool-api');
  const app = await startApi(config, { models: values.model });
  const port = (app.server.address() as AddressInfo | null)?.port ?? config.port;
  warnIfExposed(API_SERVER('api'), config.host, port, config);
  await onShutdown(async () => {
    await app.close();
    await tracing.shutdown();
  }, { boundMs: API_STOP_BOUND_MS });
  return 0;
}
