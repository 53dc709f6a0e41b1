import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort, startRedis } from '../../scripts/lib/redis-server.mjs';
import { producerConnection } from '../../src/shared/redis';
import { RedisScript } from '../../src/shared/redis-scripts';
import { tickWrites } from '../../src/shared/tick-writes';
import { eventually } from '../support/harness';

// A Redis of this file's own: its read counters and a flushed script cache are this file's.
let dir: string;
let redisServer: { url: string; stop(): Promise<void> };
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-tick-'));
  redisServer = await startRedis({ port: await freePort(), dir, persist: false });
});
afterAll(async () => {
  await redisServer.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const open: Redis[] = [];
afterEach(async () => {
  for (const redis of open.splice(0)) redis.disconnect();
});

async function connected(options: { enableAutoPipelining?: boolean } = {}): Promise<Redis> {
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1, ...options });
  open.push(redis);
  await redis.ping();
  return redis;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const socketOf = (redis: Redis) =>
  (redis as unknown as { stream: { bytesWritten: number } }).stream;

/** Reads Redis has made from client sockets so far (each is one read call on one socket). */
async function readsSoFar(admin: Redis): Promise<number> {
  return Number(/total_reads_processed:(\d+)/.exec(await admin.info('stats'))?.[1]);
}

/** A script that keeps Redis busy for `ms` (a batch that is still out when the next is asked). */
const SPIN =
  "local t0 = redis.call('TIME') local n = 0 repeat n = n + 1 local t = redis.call('TIME') until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) >= tonumber(ARGV[1]) * 1000 return n";

describe('one socket write per turn (tick-writes.ts)', () => {
  it('sends the commands of one turn in one write', async () => {
    const admin = await connected();
    const redis = tickWrites(await connected());
    const prefix = `tick-${randomUUID()}`;
    const before = await readsSoFar(admin);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => redis.set(`${prefix}:${i}`, `v${i}`)),
    );
    expect(answers).toEqual(Array(40).fill('OK'));
    // The batch's read, and the admin's INFO (counted when Redis reads it).
    expect((await readsSoFar(admin)) - before).toBeLessThanOrEqual(2);
    expect(await admin.get(`${prefix}:39`)).toBe('v39');
  });

  it('sends a turn’s commands while the batch before is still at Redis', async () => {
    const writtenWhileBusy = async (redis: Redis) => {
      let slowDone = false;
      const slow = redis.eval(SPIN, 0, 300).then(() => {
        slowDone = true;
      });
      await nextTurn();
      const before = socketOf(redis).bytesWritten;
      const fast = redis.get(`tick-${randomUUID()}`);
      await nextTurn();
      const written = socketOf(redis).bytesWritten > before;
      // The check ran while the slow batch was still out.
      expect(slowDone).toBe(false);
      await Promise.all([slow, fast]);
      return written;
    };
    expect(await writtenWhileBusy(tickWrites(await connected()))).toBe(true);
    // Auto-pipelining holds the next batch until the one out has come back.
    expect(await writtenWhileBusy(await connected({ enableAutoPipelining: true }))).toBe(false);
  });

  it('answers each command of a turn with its own reply or error, in order', async () => {
    const redis = tickWrites(await connected());
    const key = `tick-${randomUUID()}`;
    const [set, incr, get, tx] = await Promise.allSettled([
      redis.set(key, 'not a number'),
      redis.incr(key),
      redis.get(key),
      redis.multi().append(key, '!').get(key).exec(),
    ]);
    expect(set).toEqual({ status: 'fulfilled', value: 'OK' });
    expect(incr.status).toBe('rejected');
    expect((incr as PromiseRejectedResult).reason.message).toMatch(/not an integer/);
    expect(get).toEqual({ status: 'fulfilled', value: 'not a number' });
    expect(tx).toEqual({
      status: 'fulfilled',
      value: [
        [null, 13],
        [null, 'not a number!'],
      ],
    });
  });

  it('runs scripts, loading one Redis has lost, and carries on after a dropped connection', async () => {
    const admin = await connected();
    const redis = producerConnection({ REDIS_URL: redisServer.url }) as Redis;
    open.push(redis);
    // The producer connection queues nothing while it connects: it is used once it answers.
    await eventually(async () => (await redis.ping()) === 'PONG');
    const script = new RedisScript<string>('tickEcho', "return ARGV[1] .. '!'");
    expect(await Promise.all([script.run(redis, [], ['a']), script.run(redis, [], ['b'])])).toEqual(
      ['a!', 'b!'],
    );
    await admin.script('FLUSH');
    expect(await script.run(redis, [], ['c'])).toBe('c!');
    // Redis drops the connection (a restart, a failover): ioredis reconnects, the writes go on.
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await eventually(async () => (await redis.ping()) === 'PONG');
    const key = `tick-${randomUUID()}`;
    expect(await Promise.all([redis.set(key, '1'), redis.incr(key), redis.get(key)])).toEqual([
      'OK',
      2,
      '2',
    ]);
  });
});
