import { HubError } from './errors.js';

/** Files the runtime needs to tokenize and configure; a repo without them cannot be served. */
export const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;
/** Fetched when the repo has them; tokenizers fall back to tokenizer_config.json otherwise. */
export const OPTIONAL_FILES = ['special_tokens_map.json'] as const;

export interface ModelFileSelection {
  /** The chosen ONNX graph, repo-relative. */
  onnx: string;
  /**
   * Every file to fetch, repo-relative: required, present optional ones, external data, and the
   * ONNX graph last. Pulls link files into the snapshot in this order, so a snapshot whose graph
   * is present is complete even when a pull was interrupted (the cache lookup relies on it).
   */
  files: string[];
}

function onnxCandidates(variant: string | undefined): string[] {
  return variant === undefined ? ['model.onnx', 'onnx/model.onnx'] : [`onnx/model_${variant}.onnx`];
}

/**
 * Picks the files to fetch from a repo listing (or the files of a cached snapshot).
 * `where` names the listing in error messages ("cross-encoder/x@main").
 */
export function selectModelFiles(paths: Iterable<string>, variant: string | undefined, where: string): ModelFileSelection {
  const available = new Set(paths);
  const onnx = onnxCandidates(variant).find((candidate) => available.has(candidate));
  if (onnx === undefined) {
    const existing = [...available].filter((p) => p.endsWith('.onnx')).sort();
    const wanted = onnxCandidates(variant).join(' or ');
    const hint =
      existing.length === 0
        ? 'the repository has no .onnx file at all; export the model to ONNX first (e.g. with optimum-cli export onnx)'
        : `available: ${existing.join(', ')}; choose one with --variant (onnx/model_<variant>.onnx)`;
    throw new HubError('HUB_NO_ONNX', `${where} has no ${wanted}: ${hint}`);
  }
  const missing = REQUIRED_FILES.filter((file) => !available.has(file));
  if (missing.length > 0) {
    throw new HubError('HUB_INCOMPLETE_REPO', `${where} lacks ${missing.join(', ')}, which the reranker needs to load the model`);
  }
  // Graphs over 2 GB keep their weights in a sibling file that onnxruntime opens by name.
  const externalData = [`${onnx}_data`, `${onnx}.data`].filter((file) => available.has(file));
  return {
    onnx,
    files: [...REQUIRED_FILES, ...OPTIONAL_FILES.filter((file) => available.has(file)), ...externalData, onnx],
  };
}
