import { ConfigError } from './config-error.js';
import type { ModelAlias } from './parsers.js';

/**
 * The aliases of RERANK_MODEL_ALIASES checked against the model ids actually served (which
 * depend on RERANK_MODELS, `--model` and the file system, so they are known only when the API
 * starts): every target must be served, and no alias may hide a served id, or a request for that
 * model would silently get another one. Throws one `ConfigError` naming every bad entry.
 */
export function resolveModelAliases(aliases: readonly ModelAlias[] | undefined, servedIds: readonly string[]): ReadonlyMap<string, string> {
  const resolved = new Map<string, string>();
  const problems: string[] = [];
  const served = `served: ${servedIds.join(', ')}`;
  for (const { alias, model } of aliases ?? []) {
    const entry = JSON.stringify(`${alias}=${model}`);
    if (servedIds.includes(alias)) problems.push(`RERANK_MODEL_ALIASES entry ${entry}: the alias is a served model id and would hide it (${served})`);
    else if (!servedIds.includes(model)) problems.push(`RERANK_MODEL_ALIASES entry ${entry}: ${JSON.stringify(model)} is not a served model id (${served})`);
    else resolved.set(alias, model);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}
