import { resolve } from 'node:path';
import { HubError, resolveModelRef } from '@rerank-pool/model-hub';
import { ensureSyntheticModel } from './synthetic-model.js';

const DEFAULT_HUB_MODEL = 'cross-encoder/ms-marco-MiniLM-L-6-v2';

/** Where `dev` keeps the stand-in model it writes when the Hub cannot be reached. */
const SYNTHETIC_FALLBACK_DIR = resolve('.rerank-pool', 'models', 'synthetic-minilm-l6');

export interface DefaultModel {
  ref: string;
  /** Set when the real model could not be had and a synthetic one stands in. */
  warning?: string;
}

/**
 * The model `npm start` serves: the real MiniLM cross-encoder from the Hub or its cache; when
 * neither is reachable, a synthetic model of the same shape, so the service still starts and
 * runs at the real model's speed, with a warning that its scores mean nothing.
 */
export async function defaultModel(): Promise<DefaultModel> {
  try {
    await resolveModelRef(DEFAULT_HUB_MODEL);
    return { ref: DEFAULT_HUB_MODEL };
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
    await ensureSyntheticModel('minilm-l6', SYNTHETIC_FALLBACK_DIR);
    return {
      ref: SYNTHETIC_FALLBACK_DIR,
      warning:
        `${DEFAULT_HUB_MODEL} is not available (${error.message}). Serving a SYNTHETIC model of the same shape ` +
        `from ${SYNTHETIC_FALLBACK_DIR}: its speed is real, its scores are MEANINGLESS. ` +
        `Pull the real model with \`npx rerank-pool model pull ${DEFAULT_HUB_MODEL}\` or pass --model DIR.`,
    };
  }
}
