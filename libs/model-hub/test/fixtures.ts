import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { expect } from 'vitest';
import { HubError } from '../src/index.js';
import type { FakeRepo } from './fake-hub.js';

export const COMMIT = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';

const json = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2));

/**
 * The files of a cross-encoder repo as exported by optimum: small JSON configs in git and
 * random bytes standing in for ONNX graphs (this library moves bytes, it never parses them).
 */
export function modelFiles(onnxPaths: string[] = ['onnx/model.onnx'], onnxBytes = 300_000): Record<string, Buffer> {
  const files: Record<string, Buffer> = {
    'README.md': Buffer.from('# fake cross-encoder\n'),
    'config.json': json({ architectures: ['BertForSequenceClassification'], hidden_size: 32, num_labels: 1 }),
    'tokenizer.json': json({ version: '1.0', model: { type: 'WordPiece', vocab: { '[PAD]': 0, '[UNK]': 1 } } }),
    'tokenizer_config.json': json({ do_lower_case: true, model_max_length: 512 }),
    'special_tokens_map.json': json({ cls_token: '[CLS]', sep_token: '[SEP]' }),
  };
  for (const path of onnxPaths) files[path] = randomBytes(onnxBytes);
  return files;
}

export function fakeRepo(id: string, files: Record<string, Buffer> = modelFiles()): FakeRepo {
  return { id, commit: COMMIT, files };
}

/** A fresh cache directory under the OS temp dir; never the user's real cache. */
export async function tempDir(prefix = 'model-hub-test-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Every file under `dir`, keyed by its slash-separated path relative to `dir`. */
export async function filesFromDir(dir: string): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[relative(dir, path).split(sep).join('/')] = await readFile(path);
  }
  return files;
}

/** The HubError a promise rejects with; fails the test when it resolves or rejects otherwise. */
export async function failureOf(promise: Promise<unknown>): Promise<HubError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HubError);
  return error as HubError;
}
