import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT_PACKAGE = 'rerank-pool';
let cached: string | undefined;

/**
 * The version of the root package (what `rerank-pool --version` prints), found by walking up from
 * this file, so src/ and dist/ read the same one; the api's own package.json when run elsewhere.
 */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  let own: string | undefined;
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (typeof pkg.version === 'string') {
        own ??= pkg.version;
        if (pkg.name === ROOT_PACKAGE) return (cached = pkg.version);
      }
    } catch {
      // No package.json at this level: keep walking up.
    }
    const parent = dirname(dir);
    if (parent === dir) return (cached = own ?? '0.0.0');
    dir = parent;
  }
}
