import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort } from '../../scripts/lib/redis-server.mjs';
import { serviceArgs } from '../support/service-process';

/**
 * The service as `npm start` runs it, until it exits or prints `until`; `whileUp` runs
 * against it before it is stopped (its failure is the run's).
 */
function runService(
  env: Record<string, string>,
  until?: RegExp,
  whileUp?: (output: string) => Promise<void>,
  role: 'all' | 'worker' = 'all',
) {
  const child = spawn(process.execPath, serviceArgs(role), {
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
  let up: Promise<void> | undefined;
  let failure: unknown;
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const seen = (chunk: Buffer) => {
      output += chunk;
      if (up || !until?.test(output)) return;
      up = Promise.resolve(whileUp?.(output))
        .catch((error: unknown) => {
          failure = error;
        })
        .finally(() => child.kill('SIGTERM'));
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.on('exit', (code) => {
      void Promise.resolve(up).then(() =>
        failure === undefined ? resolve({ code, output }) : reject(failure),
      );
    });
  });
}

describe('service start-up', () => {
  it.each([
    { setting: 'PORT', role: 'all' },
    { setting: 'OPS_PORT', role: 'worker' },
  ] as const)(
    'names $setting in one line when the $role process finds it taken',
    async ({ setting, role }) => {
      const port = await freePort();
      const squatter = net.createServer();
      await new Promise<void>((resolve) => squatter.listen(port, '0.0.0.0', resolve));
      try {
        const { code, output } = await runService(
          { REDIS_URL: inject('redisUrl'), [setting]: String(port) },
          undefined,
          undefined,
          role,
        );
        expect(code).toBe(1);
        expect(output).toMatch(
          new RegExp(`${setting}: ${port} on 0\\.0\\.0\\.0 is already in use`),
        );
        expect(output).not.toMatch(/\n\s+at /);
      } finally {
        squatter.close();
      }
    },
    30_000,
  );

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

  it('runs from its build: serves the pages and scripts it reads from its own files, gives out its real port, and suggests', async () => {
    const { code } = await runService(
      { REDIS_URL: inject('redisUrl'), PORT: '0', HOST: '127.0.0.1' },
      /Operator desk/,
      async (output) => {
        const base = `http://127.0.0.1:${/localhost:(\d+)/.exec(output)![1]}`;
        // Each is read from beside its module's source (src/web, the widget's build, the
        // OpenAPI routes), which the build must still find from dist/.
        const console = await fetch(`${base}/console`);
        expect(console.status).toBe(200);
        expect(await console.text()).toContain('<html');
        const widget = await fetch(`${base}/widget.js`);
        expect(widget.status).toBe(200);
        expect((await widget.text()).length).toBeGreaterThan(1000);
        // The built-in engine reads its lexicon and model from src/assist.
        const token = /\n {2}(adm_\S+)/.exec(output)![1];
        const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
        const shop = (await (
          await fetch(`${base}/v1/shops`, {
            method: 'POST',
            headers: auth,
            body: JSON.stringify({ name: '构建小店', platform: 'generic' }),
          })
        ).json()) as { id: string; webhookUrl: string };
        // PORT=0: the address given out is the port really taken.
        expect(shop.webhookUrl).toBe(
          `${base.replace('127.0.0.1', 'localhost')}/webhooks/generic/${shop.id}`,
        );
        const suggest = await fetch(`${base}/v1/assist/suggest`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({
            shopId: shop.id,
            history: [{ from: 'buyer', text: '有货吗？几天能到？' }],
          }),
        });
        expect(suggest.status).toBe(200);
        const body = (await suggest.json()) as {
          signals: string[];
          suggestions: Array<{ text: string }>;
        };
        expect(body.signals).toEqual(expect.arrayContaining(['asks_stock', 'asks_delivery']));
        expect(body.suggestions.length).toBeGreaterThan(0);
        expect(body.suggestions[0]!.text).toMatch(/[\u4e00-\u9fff]/);
      },
    );
    expect(code).toBe(0);
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
