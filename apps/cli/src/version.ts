import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT_PACKAGE = 'rerank-pool';

/**
 * The version of the root package, read when asked rather than copied into the build: the
 * nearest package.json named `rerank-pool` above this file (apps/cli/dist → the repository root).
 */
export function packageVersion(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === ROOT_PACKAGE && typeof pkg.version === 'string') return pkg.version;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (dirname(dir) === dir) throw new Error(`no package.json named ${ROOT_PACKAGE} above ${from}`);
  }
}
