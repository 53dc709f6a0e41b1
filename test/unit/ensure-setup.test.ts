import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { nodeModulesPlan, packagesToInstall } from '../../scripts/lib/ensure-setup.mjs';

// What `npm start` and `npm test` decide about node_modules before anything runs.
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

type Packages = Record<string, { version: string; optional?: boolean }>;

function checkout(lock: Packages, installed?: Packages, options: { linkTo?: string } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-setup-'));
  dirs.push(dir);
  const write = (file: string, packages: Packages) =>
    fs.writeFileSync(file, JSON.stringify({ lockfileVersion: 3, packages }));
  if (options.linkTo) fs.symlinkSync(options.linkTo, path.join(dir, 'node_modules'));
  else if (installed) {
    fs.mkdirSync(path.join(dir, 'node_modules'));
    write(path.join(dir, 'node_modules', '.package-lock.json'), installed);
  }
  write(path.join(dir, 'package-lock.json'), { '': { version: '0.1.0' }, ...lock });
  return dir;
}

const lock: Packages = {
  'node_modules/koa': { version: '3.3.0' },
  'node_modules/@biomejs/cli-darwin-arm64': { version: '2.6.8', optional: true },
  'node_modules/@biomejs/cli-linux-x64': { version: '2.6.8', optional: true },
  'node_modules/koa/node_modules/debug': { version: '4.4.1' },
};
const asInstalled: Packages = {
  'node_modules/koa': { version: '3.3.0' },
  'node_modules/@biomejs/cli-linux-x64': { version: '2.6.8' },
  'node_modules/koa/node_modules/debug': { version: '4.4.1' },
};

describe('node_modules before npm start / npm test', () => {
  it('a fresh checkout of an unchanged lock (a newer package-lock.json) installs nothing', () => {
    const dir = checkout(lock, asInstalled);
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(dir, 'package-lock.json'), later, later);
    expect(packagesToInstall(dir)).toEqual([]);
    expect(nodeModulesPlan(dir)).toEqual({ action: 'none' });
  });

  it('installs when a package is missing or at another version, naming them', () => {
    const { 'node_modules/koa/node_modules/debug': _, ...withoutDebug } = asInstalled;
    const dir = checkout(lock, {
      ...withoutDebug,
      'node_modules/koa': { version: '3.2.0' },
    });
    expect(packagesToInstall(dir)).toEqual(['koa@3.3.0', 'debug@4.4.1']);
    expect(nodeModulesPlan(dir)).toEqual({ action: 'install' });
    expect(nodeModulesPlan(checkout(lock))).toEqual({ action: 'install' });
  });

  it('never reinstalls through a node_modules linked to another checkout, and says why', () => {
    const shared = checkout(lock, { 'node_modules/koa': { version: '3.2.0' } });
    const linked = checkout(lock, undefined, { linkTo: path.join(shared, 'node_modules') });
    const plan = nodeModulesPlan(linked);
    expect(plan.action).toBe('refuse');
    expect(plan.message).toBe(
      `node_modules is a link to ${fs.realpathSync(path.join(shared, 'node_modules'))}, which lacks 2 package(s) of package-lock.json (koa@3.3.0, debug@4.4.1). npm ci here would empty that directory for every checkout using it: run npm ci where it belongs, or remove the link and run this again.`,
    );
    // A link to a complete node_modules is used as it is.
    const complete = checkout(lock, asInstalled);
    expect(
      nodeModulesPlan(checkout(lock, undefined, { linkTo: path.join(complete, 'node_modules') })),
    ).toEqual({ action: 'none' });
  });

  it("this repository's own node_modules matches its lock", () => {
    expect(packagesToInstall(process.cwd())).toEqual([]);
  });
});
