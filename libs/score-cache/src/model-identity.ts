import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ScoreCacheError } from './score-cache-error.js';

/** What of a loaded model decides its scores. */
export interface ModelIdentityInput {
  /** The ONNX file the sessions run (its variant is in its name and its bytes). */
  onnxPath: string;
  /** The model directory: its tokenizer and config files are part of the identity. */
  dir: string;
  /** The effective longest pair in tokens. */
  maxLength: number;
  numLabels: number;
}

/** Files besides the ONNX graph that change how a pair is tokenized or scored. */
const MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

async function hashFile(hash: ReturnType<typeof createHash>, path: string): Promise<void> {
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (error) {
    throw new ScoreCacheError('MODEL_IDENTITY_UNREADABLE', `cannot read ${path} to identify the model: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A hash of everything that decides a pair's score: the ONNX file's bytes (so a re-export, another
 * variant or a quantized file is another model), the tokenizer and config files, the max length
 * and the label count. Reading a 90 MB graph takes a fraction of a second, once per worker start.
 */
export async function modelIdentity(model: ModelIdentityInput): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`max_length=${model.maxLength};labels=${model.numLabels};onnx=`);
  await hashFile(hash, model.onnxPath);
  for (const name of MODEL_FILES) {
    const path = join(model.dir, name);
    if (!existsSync(path)) continue;
    hash.update(`;${name}=`);
    await hashFile(hash, path);
  }
  return hash.digest('base64url').slice(0, 32);
}
