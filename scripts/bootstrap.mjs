// Makes a fresh clone runnable: installs dependencies when they are missing or stale,
// then compiles the workspace. `npm start` and `npm test` both run it first.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

// The root package's `engines.node` (">=X.Y") is what is supported: what the dependencies declare
// (cookie and content-disposition: >=22; vite under vitest: >=22.12 on 22) and what CI runs (24).
// An older Node is told so, plainly, with the one-liner that gets Node 24; the run still goes on,
// since an older Node may well work and stopping here would only trade a clear warning for nothing.
const wanted = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines?.node ?? '';
const minimum = /^>=\s*(\d+)(?:\.(\d+))?/.exec(wanted);
const [major, minor] = process.versions.node.split('.').map(Number);
if (minimum && (major < Number(minimum[1]) || (major === Number(minimum[1]) && minor < Number(minimum[2] ?? 0)))) {
  process.stderr.write(
    `bootstrap: WARNING: this is Node ${process.versions.node}; rerank-pool needs Node ${wanted.replace(/^>=\s*/, '')} or later ` +
      `(24 LTS recommended, what CI runs). Continuing, unsupported. To get Node 24 without root: ` +
      `PATH="$(scripts/node24.sh):$PATH" npm ${process.env.npm_lifecycle_event ?? 'test'}\n`,
  );
}

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

const installed = join(root, 'node_modules', '.package-lock.json');
const stale =
  !existsSync(installed) ||
  mtime(join(root, 'package.json')) > mtime(installed) ||
  mtime(join(root, 'package-lock.json')) > mtime(installed);

if (stale) {
  const lock = existsSync(join(root, 'package-lock.json'));
  process.stderr.write(`bootstrap: installing dependencies (npm ${lock ? 'ci' : 'install'})\n`);
  execFileSync(npm, [lock ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], {
  cwd: root,
  stdio: 'inherit',
});
