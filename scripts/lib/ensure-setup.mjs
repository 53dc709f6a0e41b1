// Installs what a fresh clone is missing before `npm start` or `npm test`:
// npm dependencies, and Debian packages (redis-server, chromium for the
// browser tests) when we are root on Debian/Ubuntu. Otherwise it prints the
// exact command to run and exits non-zero.
import { execSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function run(command) {
  console.log(`[setup] ${command}`);
  execSync(command, {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

export function ensureNodeModules() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  const stale = !fs.existsSync(marker) || fs.statSync(marker).mtimeMs < fs.statSync(lock).mtimeMs;
  if (stale) run('npm ci --no-audit --no-fund');
}

let aptUpdated = false;
/** `check` is a command name, or `{ shell }`: a shell test that passes when the package is usable. */
export function ensureDebianPackage(check, pkg) {
  const present =
    typeof check === 'string'
      ? has(check)
      : spawnSync('sh', ['-c', check.shell], { stdio: 'ignore' }).status === 0;
  if (present) return;
  const command = typeof check === 'string' ? check : pkg;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const isDebian = fs.existsSync('/etc/debian_version') && has('apt-get');
  if (!isRoot || !isDebian) {
    console.error(`[setup] '${command}' is missing. Install it, then run this again:`);
    console.error(
      isDebian
        ? `  sudo apt-get update && sudo apt-get install -y ${pkg}`
        : `  install the '${pkg}' package with your system's package manager`,
    );
    process.exit(1);
  }
  if (!aptUpdated) {
    run('apt-get update -qq');
    aptUpdated = true;
  }
  run(`apt-get install -y -qq ${pkg}`);
}
