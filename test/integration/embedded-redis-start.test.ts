import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort, startRedis } from '../../scripts/lib/redis-server.mjs';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An append-only file of `count` SETs, as an older Redis left it (Redis 7 takes it up). */
function writeAppendOnlyFile(dir: string, count: number): void {
  const value = 'v'.repeat(100);
  const chunks: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = `key:${i}`;
    chunks.push(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`);
  }
  fs.writeFileSync(path.join(dir, 'appendonly.aof'), chunks.join(''));
}

describe('the embedded Redis at start', () => {
  it('waits for a Redis still loading its append-only file, past the patience for an answer', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-aof-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    // ~50 MB: loading it takes longer than the 150 ms this start is given for an answer.
    writeAppendOnlyFile(dir, 350_000);
    let loadingSaid = 0;
    const redis = await startRedis({
      port: await freePort(),
      dir,
      persist: true,
      patienceMs: 150,
      onLoading: () => loadingSaid++,
    });
    cleanups.push(() => redis.stop());
    expect(loadingSaid).toBe(1);
    const client = new Redis(redis.url);
    cleanups.push(() => void client.disconnect());
    expect(await client.dbsize()).toBe(350_000);
    // The rewrite policy the embedded Redis runs with (see redis-server.mjs for why).
    expect(await client.config('GET', 'auto-aof-rewrite-percentage')).toEqual([
      'auto-aof-rewrite-percentage',
      '400',
    ]);
    expect(await client.config('GET', 'auto-aof-rewrite-min-size')).toEqual([
      'auto-aof-rewrite-min-size',
      String(256 * 1024 * 1024),
    ]);
  });

  it('gives up on a port another server holds, even one that hangs up at once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-aof-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    // A port another server holds: redis-server exits, and the start says why.
    const port = await freePort();
    const net = await import('node:net');
    const squatter = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    await expect(startRedis({ port, dir, persist: false, patienceMs: 300 })).rejects.toThrow(
      /redis-server (exited at start|did not answer)/,
    );
  });
});
