import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { QuantizeError } from './errors.js';

/** Where the Hub layout keeps the float32 export, in the order loaders look. */
const FP32_CANDIDATES = ['model.onnx', join('onnx', 'model.onnx')];
/** Tokenizer, config and vocabulary files a model directory needs besides its ONNX files. */
const SMALL_FILE = /\.(json|txt|model)$/;

export function requireModelDir(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new QuantizeError('QUANTIZE_MODEL_DIR_MISSING', `model directory ${dir} does not exist or is not a directory`);
  }
}

export function locateFp32Onnx(dir: string): string {
  for (const candidate of FP32_CANDIDATES) {
    if (existsSync(join(dir, candidate))) return join(dir, candidate);
  }
  throw new QuantizeError(
    'QUANTIZE_ONNX_MISSING',
    `model directory ${dir} has no float32 ONNX file (looked for ${FP32_CANDIDATES.join(' and ')})`,
  );
}

/** Copies config, tokenizer and vocabulary files so `outDir` is a complete model directory. */
export async function copyModelFiles(fromDir: string, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const names = (await readdir(fromDir, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && SMALL_FILE.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  await Promise.all(names.map((name) => copyFile(join(fromDir, name), join(outDir, name))));
  return names;
}
