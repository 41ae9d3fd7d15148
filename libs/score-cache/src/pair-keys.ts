import { createHash } from 'node:crypto';
import type { RerankJobData } from '@rerank-pool/contracts';

/** The request options that change a pair's score or what is reported of it. */
export type PairOptions = Pick<RerankJobData['options'], 'maxTokensPerDoc' | 'truncate' | 'truncationDirection' | 'maxChunksPerDoc'>;

/**
 * One Redis key per (model identity, options, query, document). The model identity (a hash of the
 * model's files and runtime settings, `modelIdentity`) and the options are hashed together with the
 * texts, so another model file, max length or truncation setting never meets these entries. Each
 * text is hashed as its JSON string, which ends where it ends: no two (query, document) splits of
 * the same characters hash alike. The hash of the common part is computed once and copied per document.
 *
 * The keys of one request share a hash tag, the common part's hash, so on a Redis Cluster its one
 * MGET and its pipelined writes go to one slot, while different queries spread over the nodes.
 */
export function pairKeys(prefix: string, identity: string, options: PairOptions, query: string, documents: readonly string[]): string[] {
  const common = createHash('sha256');
  common.update(
    JSON.stringify([
      identity,
      options.maxTokensPerDoc ?? null,
      options.truncate !== false,
      options.truncationDirection ?? 'right',
      options.maxChunksPerDoc ?? 1,
    ]),
  );
  common.update(JSON.stringify(query));
  // base64url has no '{' or '}': the tag ends where the brace says.
  const tag = common.copy().digest('base64url').slice(0, 16);
  return documents.map((document) => `${prefix}:{${tag}}:${common.copy().update(JSON.stringify(document)).digest('base64url')}`);
}
