import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness';

// `npm run send:test` as the README's quick start runs it, against a real service.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: false });
});
afterAll(() => h.close());

function sendTest(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    path.resolve('node_modules/.bin/tsx'),
    ['scripts/send-test-message.ts', ...args],
    { env: { ...process.env, SEATMATE_URL: undefined, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** A port nothing listens on (taken, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('npm run send:test', () => {
  it('reaches the service on the PORT it was started with, without --url', async () => {
    const shop = await h.createGenericShop();
    const port = new URL(h.url).port;
    const result = await sendTest(
      ['--shop', shop.id, '--secret', shop.webhookSecret, '--text', '您好', '--buyer', 'b-1'],
      { PORT: port },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('200 {"ok":true,"queued":1,"duplicates":0}');
    expect(result.code).toBe(0);
  }, 30_000);

  it('says in one line where it knocked and what to change when nothing answers', async () => {
    const port = await freePort();
    const result = await sendTest(['--shop', 'shp_x', '--secret', 'whsec_eA=='], {
      PORT: String(port),
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `could not reach Seatmate at http://localhost:${port} (ECONNREFUSED): is it running? Pass --url, or set PORT or SEATMATE_URL.`,
    );
  }, 30_000);
});
