import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort } from '../../scripts/lib/redis-server.mjs';

/** The service as `npm start` runs it, until it exits or prints its banner. */
function runService(env: Record<string, string>, until?: RegExp) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts', 'all'], {
    env: {
      PATH: process.env.PATH ?? '',
      DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-main-')),
      REDIS_PREFIX: `m${process.pid}`,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const seen = (chunk: Buffer) => {
      output += chunk;
      if (until?.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('service start-up', () => {
  it('names PORT in one line when the port is taken', async () => {
    const port = await freePort();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '0.0.0.0', resolve));
    try {
      const { code, output } = await runService({
        REDIS_URL: inject('redisUrl'),
        PORT: String(port),
      });
      expect(code).toBe(1);
      expect(output).toMatch(new RegExp(`PORT: ${port} on 0\\.0\\.0\\.0 is already in use`));
      expect(output).not.toMatch(/\n\s+at /);
    } finally {
      squatter.close();
    }
  }, 30_000);

  it('prints the address it really listens on, with the next steps in order', async () => {
    const { code, output } = await runService(
      { REDIS_URL: inject('redisUrl'), PORT: '0', HOST: '127.0.0.1' },
      /Operator desk/,
    );
    expect(code).toBe(0);
    const banner = /Seatmate is up on http:\/\/localhost:(\d+)/.exec(output);
    expect(Number(banner?.[1])).toBeGreaterThan(0);
    expect(output).toMatch(/Admin token \(kept in .*admin-token\):\n {2}adm_/);
    expect(output.indexOf('Admin token')).toBeLessThan(output.indexOf('Operator desk'));
  }, 30_000);

  it('names REDIS_URL, without its password, when Redis cannot be reached', async () => {
    const port = await freePort();
    const { code, output } = await runService({
      REDIS_URL: `redis://:hunter2@127.0.0.1:${port}`,
      PORT: '0',
    });
    expect(code).toBe(1);
    expect(output).toMatch(
      new RegExp(
        `REDIS_URL: no Redis ready at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} .*ECONNREFUSED`,
      ),
    );
    expect(output).not.toContain('hunter2');
  }, 30_000);
});
