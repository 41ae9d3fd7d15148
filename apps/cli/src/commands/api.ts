import { startApi } from '@rerank-pool/api';
import { loadConfig } from '@rerank-pool/config';
import { parseCommandArgs } from '../args.js';
import { onShutdown } from '../shutdown.js';

export const usage = 'api [--model DIR|HUB_ID ...]   (settings from the environment, see README)';

export async function api(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('api', argv, { model: { type: 'string', multiple: true } });
  const app = await startApi(loadConfig(), { models: values.model });
  await onShutdown(() => app.close());
  return 0;
}
