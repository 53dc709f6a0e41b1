import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort, startRedis } from '../../scripts/lib/redis-server.mjs';
import { leanPipelines } from '../../src/shared/lean-pipelines';
import { eventually } from '../support/harness';

// A Redis of this file's own: it flushes its scripts, which no other file must see.
let dir: string;
let redisServer: { url: string; stop(): Promise<void> };
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-lean-'));
  redisServer = await startRedis({ port: await freePort(), dir, persist: false });
});
afterAll(async () => {
  await redisServer.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const open: Array<{ quit(): Promise<unknown> } | { close(): Promise<void> }> = [];
afterEach(async () => {
  for (const handle of open.splice(0).reverse())
    await ('close' in handle ? handle.close() : handle.quit());
});

function connection(): Redis {
  const redis = new Redis(redisServer.url, {
    enableAutoPipelining: true,
    maxRetriesPerRequest: null,
  });
  open.push(redis);
  return leanPipelines(redis);
}

type WithEcho = Redis & { echoKey(key: string, value: string): Promise<string> };

describe('lean auto-pipelined batches', () => {
  it('carry the connection scripts without a copy each, and run them batched', async () => {
    const redis = connection() as WithEcho;
    redis.defineCommand('echoKey', {
      numberOfKeys: 1,
      lua: "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])",
    });
    const batch = redis.pipeline() as unknown as Record<string, unknown>;
    // The script is there, but not as the batch's own property (that copy is the cost).
    expect(typeof batch.echoKey).toBe('function');
    expect(Object.keys(batch)).not.toContain('echoKey');
    expect(batch.redis).toBe(redis);
    const prefix = `lean-${randomUUID()}`;
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => redis.echoKey(`${prefix}:${i}`, `v${i}`)),
    );
    expect(answers).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`));
    // A script registered later reaches the next batches too.
    redis.defineCommand('echoTwice', { numberOfKeys: 0, lua: 'return ARGV[1] .. ARGV[1]' });
    expect(
      await (redis as unknown as { echoTwice(v: string): Promise<string> }).echoTwice('ab'),
    ).toBe('abab');
  });

  it('load a script again when Redis has lost it (a restart), as before', async () => {
    const redis = connection() as WithEcho;
    redis.defineCommand('echoKey', {
      numberOfKeys: 1,
      lua: "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1]) .. '!'",
    });
    const key = `lean-${randomUUID()}`;
    expect(await redis.echoKey(key, 'a')).toBe('a!');
    const admin = new Redis(redisServer.url);
    open.push(admin);
    await admin.script('FLUSH');
    expect(await Promise.all([redis.echoKey(key, 'b'), redis.echoKey(key, 'c')])).toEqual([
      'b!',
      'c!',
    ]);
  });

  it('serve a BullMQ worker and queue, transactions included', async () => {
    const redis = connection();
    const prefix = `lean-${randomUUID()}`;
    const queue = new Queue('q', { connection: redis, prefix });
    const done: number[] = [];
    const worker = new Worker(
      'q',
      async (job) => {
        done.push(job.data.n as number);
        return job.data.n;
      },
      { connection: redis, prefix, concurrency: 8 },
    );
    open.push(queue, worker);
    await queue.addBulk(Array.from({ length: 40 }, (_, n) => ({ name: 'n', data: { n } })));
    await eventually(async () => done.length === 40);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    expect(await eventually(async () => (await queue.getCompletedCount()) === 40)).toBe(true);
    const result = (await redis.multi().set(`${prefix}:m`, '1').get(`${prefix}:m`).exec()) ?? [];
    expect(result.map(([error, value]) => [error, value])).toEqual([
      [null, 'OK'],
      [null, '1'],
    ]);
  });
});
