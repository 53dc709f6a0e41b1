import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runBullmqBaseline } from '../../scripts/lib/bullmq-baseline';
import {
  formatScriptShares,
  readScriptShares,
  startScriptShares,
} from '../../scripts/lib/redis-script-shares';
// Declares the conversation scripts (the benchmark loads every module that declares one).
import '../../src/conversations/conversation-store';
import { declaredScripts } from '../../src/shared/redis-scripts';

// `bench:pipeline --script-shares` names each EVALSHA by its script: a share under a SHA
// nobody recognises would leave the benchmark's reader guessing where Redis's time goes.
const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());

describe('bench:pipeline --script-shares', () => {
  it("names our scripts and BullMQ's by name, and puts the server's slowlog settings back", async () => {
    const before = await redis.config('GET', 'slowlog-*');
    const prefix = `{shares-${Date.now()}}`;
    const queue = new Queue('shares', { connection: redis.duplicate(), prefix });
    // Any declared script of ours with one key, called as the service calls it.
    const ours = declaredScripts().find((script) => script.name === 'conversationClose')!;
    // A Redis that has not seen a script yet is sent it whole (EVAL) once, as in a benchmark's
    // first moments: SLOWLOG keeps only the first 128 bytes of it, too little to name it.
    await queue.add('job', { warm: true });
    await startScriptShares([redis]);
    await queue.add('job', { hello: 'world' });
    await ours.run(redis, [`${prefix}:meta`, `${prefix}:active`], [Date.now(), 'member', '']);
    await redis.set(`${prefix}:plain`, '1');
    const shares = await readScriptShares([redis]);
    await queue.obliterate({ force: true });
    await queue.close();

    // Other test files share this Redis: their commands are in the log too, so only what this
    // test ran is looked for.
    const names = shares.shares.map((share) => share.name);
    expect(names).toContain('bullmq:addStandardJob');
    expect(names).toContain('conversationClose');
    expect(names).toContain('set');
    // The log's own reads are the benchmark's, not counted.
    expect(names).not.toContain('slowlog');
    expect(shares.shares.reduce((sum, share) => sum + share.share, 0)).toBeCloseTo(1, 6);
    expect(await redis.config('GET', 'slowlog-*')).toEqual(before);
  });
});

describe('formatScriptShares', () => {
  it('prints the largest shares with their mean and calls, then the rest together', () => {
    const line = formatScriptShares(
      {
        commands: 40,
        shares: [
          { name: 'bullmq:moveToFinished', calls: 10, share: 0.5, meanUs: 100 },
          { name: 'conversationAppend', calls: 10, share: 0.3, meanUs: 60 },
          { name: 'xadd', calls: 20, share: 0.2, meanUs: 20 },
        ],
      },
      2,
    );
    expect(line).toBe(
      "bullmq:moveToFinished 50% (100 µs × 10), conversationAppend 30% (60 µs × 10), the rest 20% (the step's last 40 commands)",
    );
  });
});

// `bench:pipeline --baseline`: the yardstick must have worked every job it added, or its
// per-job figures are divided by the wrong count.
describe('bench:pipeline --baseline', () => {
  it('adds at the rate given, works every job and leaves no queue behind', async () => {
    const started = performance.now();
    const result = await runBullmqBaseline({
      connect: () => new Redis(inject('redisUrl'), { maxRetriesPerRequest: null }),
      rate: 200,
      seconds: 1,
      drainSeconds: 10,
      concurrency: 4,
      data: () => ({ text: 'hi' }),
    });
    expect(result.jobs).toBe(200);
    // Open loop: 200 jobs at 200 a second take about a second to add, not an instant.
    expect(performance.now() - started).toBeGreaterThan(900);
    expect(result.p50).toBeGreaterThanOrEqual(0);
    expect(result.p99).toBeGreaterThanOrEqual(result.p50);
    expect(result.processUs).toBeGreaterThan(0);
    expect(await redis.keys('{bench-baseline-*')).toEqual([]);
  });
});
