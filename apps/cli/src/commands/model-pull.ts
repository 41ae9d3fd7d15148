import { pullModel } from '@rerank-pool/model-hub';
import { parseCommandArgs } from '../args.js';
import { UsageError } from '../cli-error.js';
import { Progress } from '../progress.js';

export const usage = 'model pull HUB_ID [--revision R] [--variant V]';

export async function modelPull(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('model pull', argv, {
    revision: { type: 'string', value: 'R', description: 'Branch, tag or commit on the Hub (default: main)' },
    variant: { type: 'string', value: 'V', description: 'ONNX variant to download (e.g. a quantized one)' },
  });
  if (positionals.length !== 1) throw new UsageError(`model pull: expected one HUB_ID, got ${positionals.length}`);
  const bars = new Map<string, Progress>();
  const pulled = await pullModel(positionals[0]!, {
    revision: values.revision,
    variant: values.variant,
    onProgress: ({ file, downloaded, total }) => {
      let bar = bars.get(file);
      if (!bar) bars.set(file, (bar = new Progress({ label: file, total, unit: 'B' })));
      if (downloaded >= total) bar.finish();
      else bar.update(downloaded, total);
    },
  });
  process.stdout.write(`${pulled.hubId}@${pulled.revision} (${pulled.commit}) is in ${pulled.dir}\n`);
  return 0;
}
