import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort, ping } from '../../scripts/lib/redis-server.mjs';
import { eventually } from '../support/harness';

/** `eventually` for a yes/no check. */
const until = (check: () => boolean | Promise<boolean>, timeoutMs?: number) =>
  eventually(async () => (await check()) || undefined, timeoutMs);

/** `npm start` as an operator runs it: the embedded Redis under a DATA_DIR of its own. */
interface Run {
  child: ChildProcess;
  /** To the whole group, as the terminal's Ctrl-C does. */
  signal: (name: NodeJS.Signals) => void;
  output: () => string;
  exited: Promise<number | null>;
}

const started: Run[] = [];
const redisPids: number[] = [];

function npmStart(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['scripts/start.mjs', 'all'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, as in a terminal: a signal reaches the script and the service.
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const run = {
    child,
    output: () => output,
    exited,
    signal: (name: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, name);
      } catch {}
    },
  };
  started.push(run);
  return run;
}

async function scratch() {
  return {
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-start-')),
    PORT: String(await freePort()),
    EMBEDDED_REDIS_PORT: String(await freePort()),
  };
}

function lockedRedisPid(dataDir: string): number {
  return JSON.parse(fs.readFileSync(path.join(dataDir, 'start.lock'), 'utf8')).redisPid;
}

afterEach(async () => {
  for (const run of started.splice(0)) {
    run.signal('SIGTERM');
    await run.exited;
  }
  for (const pid of redisPids.splice(0))
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
});

describe('npm start (scripts/start.mjs)', () => {
  it('leaves no embedded Redis behind when Ctrl-C lands while Redis is starting', async () => {
    const env = await scratch();
    const run = npmStart(env);
    // Before the service exists: Redis is starting (or about to).
    await until(() => fs.existsSync(path.join(env.DATA_DIR, 'redis')), 5000);
    run.signal('SIGINT');
    expect(await run.exited).toBe(130);
    expect(await ping(Number(env.EMBEDDED_REDIS_PORT))).toBe(false);
    expect(fs.existsSync(path.join(env.DATA_DIR, 'start.lock'))).toBe(false);
  }, 30_000);

  it('refuses a second start on the same DATA_DIR, takes over a Redis left by a killed run, and brings a crashed Redis back', async () => {
    const env = await scratch();
    const first = npmStart(env);
    await until(() => /Seatmate is up/.test(first.output()), 25_000);

    // Another port, same files: two servers on one append-only file would corrupt it.
    const second = npmStart({
      ...env,
      PORT: String(await freePort()),
      EMBEDDED_REDIS_PORT: String(await freePort()),
    });
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(
      /another npm start \(pid \d+, Redis on port \d+\) is running with DATA_DIR/,
    );

    // Redis dies under the running service: said, and back on its own.
    process.kill(lockedRedisPid(env.DATA_DIR), 'SIGKILL');
    await until(() => /embedded Redis is back on/.test(first.output()), 15_000);
    expect(first.output()).toMatch(/embedded Redis stopped by itself \(SIGKILL\); restarting it/);
    await until(
      async () => (await fetch(`http://127.0.0.1:${env.PORT}/readyz`)).status === 200,
      15_000,
    );

    // The start script and the service killed outright; their Redis lives on.
    const orphan = lockedRedisPid(env.DATA_DIR);
    redisPids.push(orphan);
    first.signal('SIGKILL');
    await first.exited;
    expect(fs.readFileSync(`/proc/${orphan}/cmdline`, 'utf8')).toMatch(/redis-server/);
    const again = npmStart(env);
    await until(() => /Seatmate is up/.test(again.output()), 25_000);
    expect(again.output()).toMatch(
      /stopping the embedded Redis \(pid \d+\) left by an earlier run/,
    );
    again.signal('SIGTERM');
    expect(await again.exited).toBe(0);
    expect(await ping(Number(env.EMBEDDED_REDIS_PORT))).toBe(false);
  }, 120_000);

  it('says in one line, without a stack, when the Redis port is taken or DATA_DIR is unusable', async () => {
    const env = await scratch();
    const squatter = net.createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) =>
      squatter.listen(Number(env.EMBEDDED_REDIS_PORT), '127.0.0.1', resolve),
    );
    try {
      const taken = npmStart(env);
      expect(await taken.exited).toBe(1);
      expect(taken.output()).toMatch(
        /embedded Redis did not start: .*Address already in use.*EMBEDDED_REDIS_PORT/,
      );
      expect(taken.output()).not.toMatch(/\n\s+at /);
    } finally {
      squatter.close();
    }
    const file = path.join(env.DATA_DIR, 'a-file');
    fs.writeFileSync(file, '');
    const unusable = npmStart({ ...env, DATA_DIR: file });
    expect(await unusable.exited).toBe(1);
    expect(unusable.output()).toMatch(/DATA_DIR .*a-file is not writable \(ENOTDIR\)/);
    expect(unusable.output()).not.toMatch(/\n\s+at /);
    const badPort = npmStart({ ...env, EMBEDDED_REDIS_PORT: '63 90' });
    expect(await badPort.exited).toBe(78);
    expect(badPort.output()).toMatch(/EMBEDDED_REDIS_PORT: must be a whole number/);
  }, 60_000);

  it('looks at node_modules before it loads a package from it (a fresh clone has none)', async () => {
    // The start script and its helpers, in a checkout whose node_modules lacks every package:
    // linked, so the setup step refuses (and says why) instead of running npm ci for minutes.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-fresh-'));
    fs.cpSync('scripts/start.mjs', path.join(dir, 'scripts', 'start.mjs'));
    fs.cpSync('scripts/lib', path.join(dir, 'scripts', 'lib'), { recursive: true });
    for (const file of ['package.json', 'package-lock.json']) fs.cpSync(file, path.join(dir, file));
    fs.mkdirSync(path.join(dir, 'empty'));
    fs.symlinkSync(path.join(dir, 'empty'), path.join(dir, 'node_modules'));
    try {
      const child = spawn(process.execPath, [path.join(dir, 'scripts', 'start.mjs'), 'all'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(output).not.toMatch(/ERR_MODULE_NOT_FOUND/);
      expect(output).toMatch(/\[setup\] node_modules is a link to .*empty, which lacks/);
      expect(code).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
