// Makes a fresh clone runnable: installs dependencies when they are missing or stale,
// then compiles the workspace. `npm start` and `npm test` both run it first.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

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
