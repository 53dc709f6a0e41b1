// `npm test`: the same set-up as `npm start` (dependencies, redis-server) plus
// Debian's chromium for the browser tests, then the type check and every test.
// Extra arguments go to vitest (e.g. `npm test -- test/unit`).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackage, ensureNodeModules } from './lib/ensure-setup.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
ensureNodeModules();
ensureDebianPackage('redis-server', 'redis-server');
ensureDebianPackage('chromium', 'chromium');
// Chinese text in the console and dashboard screenshots needs a CJK font.
ensureDebianPackage({ shell: 'fc-list :lang=zh | grep -q .' }, 'fonts-noto-cjk');

const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const step = (command, args) => {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
const args = process.argv.slice(2);
if (args.length === 0) {
  // One formatter and linter for the repo (biome.json): a style slip fails the run like a type error.
  step(bin('biome'), ['check', '.']);
  step(bin('tsc'), ['--noEmit', '-p', '.']);
}

// The JSON report gives one plain closing line that any CI can read.
const report = path.join(os.tmpdir(), `seatmate-vitest-${process.pid}.json`);
const run = spawnSync(
  bin('vitest'),
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args],
  { stdio: 'inherit', cwd: root },
);
if (fs.existsSync(report)) {
  const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = JSON.parse(
    fs.readFileSync(report, 'utf8'),
  );
  fs.rmSync(report, { force: true });
  // Vitest also fails a run whose tests all passed when an error escaped them (an unhandled rejection).
  const escaped =
    run.status !== 0 && numFailedTests === 0 ? '; the run FAILED: see the errors above' : '';
  console.log(
    `\nTests: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped${escaped}`,
  );
}
process.exit(run.status ?? 1);
