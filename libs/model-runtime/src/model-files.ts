import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ModelRuntimeError } from './errors.js';

/** The files of a model directory in the Hugging Face Hub layout, read and parsed. */
export interface ModelFiles {
  dir: string;
  onnxPath: string;
  config: Record<string, unknown>;
  tokenizer: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

export interface LocateOptions {
  /** Selects `onnx/model_<variant>.onnx` (e.g. `quantized`). Default: `model.onnx`, then `onnx/model.onnx`. */
  variant?: string;
}

function readJson(dir: string, name: string): Record<string, unknown> {
  const path = join(dir, name);
  if (!existsSync(path)) {
    throw new ModelRuntimeError('MODEL_FILE_MISSING', `model directory ${dir} has no ${name}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ModelRuntimeError(
      'MODEL_FILE_MALFORMED',
      `${path} is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ModelRuntimeError('MODEL_FILE_MALFORMED', `${path} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function listOnnxFiles(dir: string): string[] {
  const found: string[] = [];
  for (const sub of ['', 'onnx']) {
    const folder = join(dir, sub);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) continue;
    for (const name of readdirSync(folder)) {
      if (name.endsWith('.onnx')) found.push(relative(dir, join(folder, name)));
    }
  }
  return found.sort();
}

export function locateOnnxFile(dir: string, options: LocateOptions = {}): string {
  const candidates = options.variant
    ? [join('onnx', `model_${options.variant}.onnx`), `model_${options.variant}.onnx`]
    : ['model.onnx', join('onnx', 'model.onnx')];
  for (const candidate of candidates) {
    if (existsSync(join(dir, candidate))) return join(dir, candidate);
  }
  const available = listOnnxFiles(dir);
  const wanted = options.variant ? `variant "${options.variant}" (${candidates.join(' or ')})` : candidates.join(' or ');
  throw new ModelRuntimeError(
    'MODEL_FILE_MISSING',
    `model directory ${dir} has no ONNX file for ${wanted}` +
      (available.length ? `; it has: ${available.join(', ')}` : '; it has no .onnx file at all'),
  );
}

/** The two tokenizer files, which is all a pool thread needs besides the ONNX path. */
export function readTokenizerFiles(dir: string): Pick<ModelFiles, 'tokenizer' | 'tokenizerConfig'> {
  const tokenizer = readJson(dir, 'tokenizer.json');
  if (typeof tokenizer.model !== 'object' || tokenizer.model === null) {
    throw new ModelRuntimeError('MODEL_FILE_MALFORMED', `${join(dir, 'tokenizer.json')} has no "model" section`);
  }
  return { tokenizer, tokenizerConfig: readJson(dir, 'tokenizer_config.json') };
}

export function readModelFiles(dir: string, options: LocateOptions = {}): ModelFiles {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelRuntimeError('MODEL_DIR_MISSING', `model directory ${dir} does not exist`);
  }
  const config = readJson(dir, 'config.json');
  return { dir, onnxPath: locateOnnxFile(dir, options), config, ...readTokenizerFiles(dir) };
}
