import { InferencePool, type TruncationStrategy } from '@rerank-pool/model-runtime';
import { rankResults } from '@rerank-pool/contracts';
import { resolveModelRef } from '@rerank-pool/model-hub';
import { parseCommandArgs, positiveIntegerArg, requiredArg } from '../args.js';
import { UsageError } from '../cli-error.js';

export const usage =
  'score --model DIR|HUB_ID --query Q --doc D [--doc D ...] [--json] [--raw] [--max-length N] [--truncation longest_first|only_second] [--variant V] [--threads N]';

const TRUNCATIONS: readonly TruncationStrategy[] = ['longest_first', 'only_second'];

export async function score(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('score', argv, {
    model: { type: 'string', value: 'DIR|HUB_ID', description: 'Model directory or Hugging Face Hub id (required)' },
    query: { type: 'string', value: 'Q', description: 'The query (required)' },
    doc: { type: 'string', multiple: true, value: 'D', description: 'A document to score against the query; at least one' },
    json: { type: 'boolean', default: false, description: 'Print the ranked results as JSON' },
    raw: { type: 'boolean', default: false, description: 'Show logits instead of scores' },
    'max-length': { type: 'string', value: 'N', description: "Tokens per query-document pair (default: the model's)" },
    truncation: { type: 'string', value: 'longest_first|only_second', description: 'How over-long pairs are cut (default: longest_first)' },
    variant: { type: 'string', value: 'V', description: 'ONNX variant of the model to load' },
    threads: { type: 'string', value: 'N', description: 'onnxruntime threads (default: 1)' },
  });
  const query = requiredArg('score', 'query', values.query);
  const documents = values.doc ?? [];
  if (documents.length === 0) throw new UsageError('score: give at least one --doc');
  const truncation = values.truncation ?? 'longest_first';
  if (!(TRUNCATIONS as readonly string[]).includes(truncation)) {
    throw new UsageError(`score: --truncation must be one of ${TRUNCATIONS.join(', ')}, got "${truncation}"`);
  }
  const resolved = await resolveModelRef(requiredArg('score', 'model', values.model), { variant: values.variant });
  const pool = await InferencePool.open({
    modelDir: resolved.dir,
    modelId: resolved.id,
    variant: values.variant,
    threads: positiveIntegerArg('score', 'threads', values.threads) ?? 1,
  });
  try {
    const result = await pool.score(query, documents, {
      maxLength: positiveIntegerArg('score', 'max-length', values['max-length']),
      truncation: truncation as TruncationStrategy,
    });
    const shown = values.raw ? result.logits : result.scores;
    const ranked = rankResults(shown);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ results: ranked })}\n`);
    } else {
      if (pool.model.synthetic) process.stderr.write(`note: ${pool.model.id} is a synthetic model; its scores are meaningless\n`);
      for (const [rank, row] of ranked.entries()) {
        const text = documents[row.index]!.replace(/\s+/g, ' ');
        process.stdout.write(`${rank + 1}\t${row.relevance_score.toFixed(4)}\t[${row.index}] ${text.length > 80 ? `${text.slice(0, 77)}...` : text}\n`);
      }
    }
  } finally {
    await pool.close();
  }
  return 0;
}
