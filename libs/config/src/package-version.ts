import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT_PACKAGE = 'rerank-pool';
let cached: string | undefined;

/**
 * The version of the root package (`rerank-pool --version`, TEI's `/info`), read at run time
 * rather than copied into the build: the nearest package.json named `rerank-pool` above this file
 * (src/ and dist/ alike), or, installed where there is none, the nearest package.json with a version.
 */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  const from = fileURLToPath(import.meta.url);
  let nearest: string | undefined;
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (typeof pkg.version === 'string') {
        nearest ??= pkg.version;
        if (pkg.name === ROOT_PACKAGE) return (cached = pkg.version);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (dirname(dir) === dir) {
      if (nearest === undefined) throw new Error(`no package.json with a version above ${from}`);
      return (cached = nearest);
    }
  }
}
