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

/**
 * The packages of package-lock.json that node_modules lacks or holds at
 * another version, read from npm's own record of what it installed
 * (node_modules/.package-lock.json). Contents, not file times: a clone, a
 * checkout or a merge gives package-lock.json a new time without changing a
 * package, and reinstalling then is minutes lost (or worse, see below).
 * Optional packages for other systems (esbuild's, biome's) are never installed.
 */
export function packagesToInstall(dir = root) {
  const wanted = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8')).packages;
  let installed;
  try {
    installed = JSON.parse(
      fs.readFileSync(path.join(dir, 'node_modules', '.package-lock.json'), 'utf8'),
    ).packages;
  } catch {
    return ['(nothing installed yet)'];
  }
  const out = [];
  for (const [name, entry] of Object.entries(wanted ?? {})) {
    if (!name.startsWith('node_modules/')) continue;
    const got = installed?.[name];
    if (got ? got.version !== entry.version : !entry.optional)
      out.push(`${name.slice(name.lastIndexOf('node_modules/') + 13)}@${entry.version}`);
  }
  return out;
}

/**
 * What to do about node_modules: nothing, `npm ci`, or refuse. A node_modules
 * that is a link to another checkout's is never reinstalled: `npm ci` first
 * empties node_modules, through the link, for every checkout sharing it.
 */
export function nodeModulesPlan(dir = root) {
  const missing = packagesToInstall(dir);
  if (missing.length === 0) return { action: 'none' };
  const modules = path.join(dir, 'node_modules');
  if (fs.lstatSync(modules, { throwIfNoEntry: false })?.isSymbolicLink()) {
    const shown = missing.slice(0, 3).join(', ') + (missing.length > 3 ? ', …' : '');
    return {
      action: 'refuse',
      message: `node_modules is a link to ${fs.realpathSync(modules)}, which lacks ${missing.length} package(s) of package-lock.json (${shown}). npm ci here would empty that directory for every checkout using it: run npm ci where it belongs, or remove the link and run this again.`,
    };
  }
  return { action: 'install' };
}

export function ensureNodeModules() {
  const plan = nodeModulesPlan();
  if (plan.action === 'refuse') {
    console.error(`[setup] ${plan.message}`);
    process.exit(1);
  }
  if (plan.action === 'install') run('npm ci --no-audit --no-fund');
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
